"""The OpenAPI 3 document of the API, built from the contract and the marshmallow schemas.

After changing an endpoint or a schema, regenerate the checked-in copy
(``tests/api/test_openapi.py`` fails until the two match)::

    .venv/bin/notifier openapi > docs/openapi.json
"""

import copy
import json
import re
from collections.abc import Callable
from importlib.metadata import version
from typing import Any, Final

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from werkzeug.routing import Rule

from notifier.api.auth import scope_of
from notifier.api.contract import BEARER, ERROR_RESPONSES, UNDOCUMENTED, Operation, error_answer
from notifier.api.contracts import DOCUMENTED

OPENAPI_VERSION: Final = '3.0.3'
ADMIN_PREFIX: Final = 'admin'
REGENERATE: Final = '.venv/bin/notifier openapi > docs/openapi.json'
DESCRIPTION: Final = (
    'The notification service of the online cinema. Other services announce events; '
    'the service renders and delivers one notification per recipient and channel. '
    'Every error answers `{"error": {"code", "message", "fields"?}}`. '
    'Live notifications: a WebSocket at `/ws` on its own port (NOTIFIER_WEBSOCKET_PORT, see docs/websocket.md).'
)
#: The extension that names the token scope an operation needs (docs/security.md).
SCOPE_EXTENSION: Final = 'x-required-scope'
#: ``<converter:name>`` or ``<name>`` in a Flask rule; OpenAPI writes ``{name}``.
RULE_VARIABLE: Final = re.compile('<(?:[^:<>]+:)?([^<>]+)>')


def openapi_path(rule: Rule) -> str:
    """``/notifications/<notification_id>`` as OpenAPI writes it: ``/notifications/{notification_id}``."""
    return RULE_VARIABLE.sub(r'{\1}', rule.rule)


def build_spec(app: Flask) -> dict[str, Any]:
    """The document of every documented route of ``app``."""
    spec = APISpec(
        title='notifier',
        version=version('notifier'),
        openapi_version=OPENAPI_VERSION,
        plugins=[MarshmallowPlugin()],
        info={'description': DESCRIPTION},
    )
    spec.components.security_scheme(BEARER, {
        'type': 'http', 'scheme': 'bearer', 'description': 'One of NOTIFIER_API_TOKENS.',
    })
    for response_name, description in ERROR_RESPONSES.items():
        spec.components.response(response_name, error_answer(description))
    for rule in sorted(app.url_map.iter_rules(), key=lambda known: known.rule):
        operations = {
            method: _with_scope(operation, app.view_functions[rule.endpoint])
            for method, operation in DOCUMENTED.get(rule.endpoint, {}).items()
            if method.upper() in (rule.methods or ())
        }
        if operations:
            # apispec replaces schemas by references in place: give it a copy of the contract.
            spec.path(path=openapi_path(rule), operations=copy.deepcopy(operations))
    return spec.to_dict()


def _with_scope(operation: Operation, view: Callable[..., Any]) -> Operation:
    """An operation behind the token names the scope its view needs."""
    if not operation['security']:
        return operation
    return {**operation, SCOPE_EXTENSION: scope_of(view)}


def undocumented_endpoints(app: Flask) -> set[str]:
    """Routes of ``app`` that the contract does not describe (there should be none)."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    # The admin panel is HTML for people behind a login, not part of the service's API.
    api_endpoints = {endpoint for endpoint in endpoints if not endpoint.startswith(ADMIN_PREFIX)}
    return api_endpoints - set(DOCUMENTED) - UNDOCUMENTED


def document_text(app: Flask) -> str:
    """The document as the checked-in ``docs/openapi.json`` holds it."""
    return '{0}\n'.format(json.dumps(build_spec(app), indent=2, ensure_ascii=False))
