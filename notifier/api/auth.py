"""Service-to-service authentication with bearer tokens (``NOTIFIER_API_TOKENS``), and their scopes.

A token listed alone may do everything; ``TOKEN:read+events:write`` may only
what those scopes allow (docs/security.md). Each view behind the token says
which scope it needs with :func:`requires_scope`; one that says nothing needs
``admin``, so a new route is closed to limited tokens until it is declared.
"""

import hashlib
import hmac
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from types import MappingProxyType
from typing import Any, Final, TypeVar

from flask import current_app, request

from notifier.api.errors import ApiError
from notifier.constants import BEARER_PREFIX
from notifier.settings import settings_of

#: Announce events and cancel notifications.
EVENTS_WRITE: Final = 'events:write'
#: Read anything: notifications, mailings' progress, schedules, limits, inboxes, preferences, clicks.
READ: Final = 'read'
#: What the site does for its logged-in user: mark inbox items read, replace the user's preferences.
USERS_WRITE: Final = 'users:write'
#: Operate the service: schedules, mailings' pause/resume/cancel, rate limits.
ADMIN: Final = 'admin'

#: RFC 6750: a 401 names the scheme the client should use.
CHALLENGE = MappingProxyType({'WWW-Authenticate': 'Bearer'})

_DIGESTS_KEY: Final = 'notifier.token_digests'
#: Each configured token's SHA-256 digest and its scopes.
Digests = tuple[tuple[bytes, frozenset[str]], ...]
View = TypeVar('View', bound=Callable[..., Any])
_DECLARED: weakref.WeakKeyDictionary[Callable[..., Any], str] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class ScopeRequirement:
    """A decorator that records the scope a view needs (the view itself is left as it is)."""

    scope: str

    def __call__(self, view: View) -> View:
        """Record the scope of ``view``."""
        _DECLARED[view] = self.scope
        return view


def requires_scope(scope: str) -> ScopeRequirement:
    """``@requires_scope(READ)`` on a view behind :func:`require_token`."""
    return ScopeRequirement(scope)


def scope_of(view: Callable[..., Any]) -> str:
    """The scope a view needs: the declared one, ``admin`` when it declares none."""
    return _DECLARED.get(view, ADMIN)


def require_token() -> None:
    """Refuse a request without one of the configured bearer tokens (401), or whose token lacks the scope (403)."""
    header = request.headers.get('Authorization', '')
    if not header.startswith(BEARER_PREFIX):
        raise ApiError(
            HTTPStatus.UNAUTHORIZED, 'unauthorized', 'send Authorization: Bearer <token>', headers=CHALLENGE,
        )
    granted = _granted_scopes(header.removeprefix(BEARER_PREFIX).strip())
    if granted is None:
        raise ApiError(HTTPStatus.UNAUTHORIZED, 'unauthorized', 'unknown bearer token', headers=CHALLENGE)
    view = current_app.view_functions.get(request.endpoint or '')
    needed = ADMIN if view is None else scope_of(view)
    if needed not in granted:
        raise ApiError(
            HTTPStatus.FORBIDDEN,
            'insufficient_scope',
            'this token may not call {0} {1}: that needs the scope {2}'.format(
                request.method, request.url_rule.rule if request.url_rule else request.path, needed,
            ),
            headers={'WWW-Authenticate': 'Bearer error="insufficient_scope", scope="{0}"'.format(needed)},
        )


def _granted_scopes(offered: str) -> frozenset[str] | None:
    """The scopes of the configured token that equals ``offered``, or ``None``.

    Every configured token is compared, each in constant time over equal-length
    digests, so neither the time nor an early exit tells how much of a token was right.
    """
    offered_digest = _digest(offered)
    matches = [
        scopes
        for digest, scopes in _configured_digests()
        if hmac.compare_digest(offered_digest, digest)
    ]
    return matches[0] if matches else None


def _configured_digests() -> Digests:
    """Each configured token's digest and scopes, parsed and hashed once per app (not per request)."""
    settings = settings_of()
    cached: tuple[str, Digests] | None = current_app.extensions.get(_DIGESTS_KEY)
    if cached is not None and cached[0] == settings.api_tokens:
        return cached[1]
    scopes_of = settings.token_scopes
    digests = tuple((_digest(token), scopes) for token, scopes in scopes_of.items())
    current_app.extensions[_DIGESTS_KEY] = (settings.api_tokens, digests)
    return digests


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
