"""Service-to-service authentication with bearer tokens (``NOTIFIER_API_TOKENS``)."""

import hmac
from http import HTTPStatus
from types import MappingProxyType

from flask import request

from notifier.api.errors import ApiError
from notifier.settings import settings_of
from notifier.constants import BEARER_PREFIX

#: RFC 6750: a 401 names the scheme the client should use.
CHALLENGE = MappingProxyType({'WWW-Authenticate': 'Bearer'})


def require_token() -> None:
    """Refuse a request without one of the configured bearer tokens."""
    header = request.headers.get('Authorization', '')
    if not header.startswith(BEARER_PREFIX):
        raise ApiError(
            HTTPStatus.UNAUTHORIZED, 'unauthorized', 'send Authorization: Bearer <token>', headers=CHALLENGE,
        )
    offered = header.removeprefix(BEARER_PREFIX).strip().encode()
    known = [hmac.compare_digest(offered, token.encode()) for token in settings_of().tokens]
    if not any(known):
        raise ApiError(HTTPStatus.UNAUTHORIZED, 'unauthorized', 'unknown bearer token', headers=CHALLENGE)
