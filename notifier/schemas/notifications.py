"""How notifications and their deliveries look in API answers, and the list's query."""

from collections.abc import Callable
from typing import Any, Final

from marshmallow import EXCLUDE, Schema, fields, missing, validate

DEFAULT_PAGE: Final = 50
MAX_PAGE: Final = 500
MAX_CURSOR_LENGTH: Final = 200
MAX_CONTENT_ID: Final = 64
STATUS_NAME = validate.Regexp(r'^[a-z_]{1,16}$', error='a status like accepted or scheduled')
NEWEST_FIRST = 'newest first (created_at, then id, descending)'


def _about(description: str) -> dict[str, str]:
    """The OpenAPI description of a field."""
    return {'description': description}


class _FromParent(fields.Nested):
    """A nested object made of the parent's own attributes (``recipient`` of ``recipient_*``)."""

    def get_value(
        self,
        parent: Any,
        attr: str,
        accessor: Callable[[Any, str, Any], Any] | None = None,
        default: Any = missing,
    ) -> Any:
        return parent


class RecipientSchema(Schema):
    """Who a notification goes to."""

    email = fields.String(attribute='recipient_email', required=True, allow_none=True)
    user_id = fields.String(attribute='recipient_id', required=True, allow_none=True)


class DeliverySchema(Schema):
    """One notification to one recipient on one channel, and where it is."""

    id = fields.String(required=True)
    channel = fields.String(required=True)
    recipient = fields.String(required=True)
    state = fields.String(required=True, metadata=_about('pending, sending, sent, failed or skipped'))
    attempts = fields.Integer(required=True)
    last_error = fields.String(required=True, allow_none=True)
    sent_at = fields.DateTime(required=True, allow_none=True)
    updated_at = fields.DateTime(required=True, allow_none=True)


class NotificationSchema(Schema):
    """A notification with its deliveries."""

    id = fields.String(required=True)
    notification_type = fields.String(data_key='type', attribute='type', required=True)
    status = fields.String(
        required=True,
        metadata=_about(
            'accepted, scheduled, queued, processing, cancelled; once every delivery is final: '
            'sent, partially_sent, failed or skipped (docs/api.md)',
        ),
    )
    urgency = fields.String(required=True)
    scale = fields.String(required=True)
    template = fields.String(required=True)
    locale = fields.String(required=True)
    channels = fields.List(fields.String(), required=True)
    recipient = _FromParent(RecipientSchema, required=True)
    notification_fields = fields.Dict(data_key='fields', attribute='fields', keys=fields.String(), required=True)
    content_id = fields.String(
        required=True, allow_none=True, metadata=_about('the film, series or episode it is about'),
    )
    scheduled_at = fields.DateTime(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)
    deliveries = fields.List(fields.Nested(DeliverySchema), required=True)


class NotificationPageSchema(Schema):
    """A page of notifications, newest first, and the cursor of the next page."""

    notifications = fields.List(
        fields.Nested(NotificationSchema), data_key='items', attribute='items', required=True,
    )
    next_cursor = fields.String(
        data_key='next',
        attribute='next',
        required=True,
        allow_none=True,
        metadata=_about('pass as ?before= for the next (older) page; null on the last page'),
    )


class AcceptedSchema(Schema):
    """The answer to ``POST /api/v1/events``: the id and where the notification is."""

    id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(['accepted']))
    notification_status = fields.String(required=True)
    replayed = fields.Boolean(
        required=True, metadata=_about('true when the Idempotency-Key was seen before with this body'),
    )
    created_at = fields.DateTime(required=True)


class NotificationQuerySchema(Schema):
    """The query of ``GET /api/v1/notifications``."""

    class Meta:
        unknown = EXCLUDE

    limit = fields.Integer(
        load_default=DEFAULT_PAGE,
        validate=validate.Range(min=1, max=MAX_PAGE),
        metadata=_about('how many notifications, {0}'.format(NEWEST_FIRST)),
    )
    before = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=MAX_CURSOR_LENGTH),
        metadata=_about('the `next` cursor of the previous page'),
    )
    status = fields.String(load_default=None, validate=STATUS_NAME, metadata=_about('only this status'))
    content_id = fields.String(
        load_default=None,
        validate=(validate.Length(min=1, max=MAX_CONTENT_ID), validate.ContainsNoneOf('\x00')),
        metadata=_about('only notifications about this film, series or episode'),
    )
