"""How inbox items look in API answers and on the socket, and the inbox list's query."""

from typing import Final

from marshmallow import EXCLUDE, Schema, fields, validate

DEFAULT_PAGE: Final = 50
MAX_PAGE: Final = 500
MAX_CURSOR_LENGTH: Final = 200


def _about(description: str) -> dict[str, str]:
    """The OpenAPI description of a field."""
    return {'description': description}


class InboxItemSchema(Schema):
    """One notification in a user's inbox (the same object the socket pushes)."""

    id = fields.String(required=True, metadata=_about('the inbox item id: a client shows each id once'))
    notification_id = fields.String(required=True)
    title = fields.String(required=True)
    body = fields.String(required=True, metadata=_about('plain text'))
    payload = fields.Dict(
        data_key='data', keys=fields.String(), required=True, metadata=_about('extra content, e.g. `html`'),
    )
    created_at = fields.DateTime(required=True)
    read_at = fields.DateTime(required=True, allow_none=True)


class InboxPageSchema(Schema):
    """A page of a user's inbox, newest first, with the unread count."""

    inbox_items = fields.List(fields.Nested(InboxItemSchema), data_key='items', attribute='items', required=True)
    next_cursor = fields.String(
        data_key='next',
        attribute='next',
        required=True,
        allow_none=True,
        metadata=_about('pass as ?before= for the next (older) page; null on the last page'),
    )
    unread = fields.Integer(required=True, metadata=_about('unread items of the user, all pages'))


class ReadAllSchema(Schema):
    """The answer of marking every item read."""

    marked = fields.Integer(required=True, metadata=_about('items that were unread until now'))
    unread = fields.Integer(required=True)


class InboxQuerySchema(Schema):
    """The query of ``GET /api/v1/users/<id>/inbox``."""

    class Meta:
        unknown = EXCLUDE

    limit = fields.Integer(
        load_default=DEFAULT_PAGE,
        validate=validate.Range(min=1, max=MAX_PAGE),
        metadata=_about('how many items, newest first'),
    )
    before = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=MAX_CURSOR_LENGTH),
        metadata=_about('the `next` cursor of the previous page'),
    )
    unread = fields.Boolean(load_default=False, metadata=_about('only unread items'))
