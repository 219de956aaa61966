"""``/api/v1/openapi.json`` and ``/api/v1/docs``: the contract, readable without a token.

The page is plain HTML rendered from the document (no JavaScript, nothing
from a CDN), so it works on a machine without Internet access.
"""

from typing import Any, Final

from flask import Blueprint, Response, current_app, render_template_string

from notifier.api.docs_page import DOCS_TEMPLATE
from notifier.api.openapi import build_spec, document_text

docs_blueprint = Blueprint('docs', __name__, url_prefix='/api/v1')
DOCUMENT_KEY: Final = 'notifier.openapi'
HTTP_METHODS: Final = ('get', 'put', 'post', 'patch', 'delete')


def _document() -> tuple[dict[str, Any], str]:
    """The document and its JSON text, built once per app (the routes do not change while it runs)."""
    cached: tuple[dict[str, Any], str] | None = current_app.extensions.get(DOCUMENT_KEY)
    if cached is None:
        cached = (build_spec(current_app), document_text(current_app))
        current_app.extensions[DOCUMENT_KEY] = cached
    return cached


@docs_blueprint.get('/openapi.json')
def openapi_document() -> Response:
    """The OpenAPI 3 document."""
    return Response(_document()[1], mimetype='application/json')


@docs_blueprint.get('/docs')
def docs_page() -> str:
    """The document as an HTML page: every operation, its parameters, answers and schemas."""
    spec = _document()[0]
    operations = [
        (path, method, path_item[method])
        for path, path_item in spec['paths'].items()
        for method in HTTP_METHODS
        if method in path_item
    ]
    return render_template_string(DOCS_TEMPLATE, spec=spec, operations=operations)
