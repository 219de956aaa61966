"""``POST /api/v1/events/batch``: many events in one request, and one result per event."""

from typing import Final

from marshmallow import EXCLUDE, Schema, fields, validate

from notifier.constants import MAX_KEY_LENGTH

#: The most events one batch request may carry.
MAX_BATCH_EVENTS: Final = 500


def _about(description: str) -> dict[str, str]:
    """The OpenAPI description of a field."""
    return {'description': description}


class BatchEntrySchema(Schema):
    """One event of a batch and the key that makes retrying it safe."""

    class Meta:
        unknown = EXCLUDE

    idempotency_key = fields.String(
        required=True,
        validate=(
            validate.Length(min=1, max=MAX_KEY_LENGTH),
            validate.ContainsNoneOf(['\x00'], error='must not contain NUL'),
        ),
        metadata=_about('What the Idempotency-Key header is for a single event.'),
    )
    event = fields.Dict(
        required=True,
        metadata=_about('An event exactly as `POST /api/v1/events` takes it (validated one by one).'),
    )


class EventBatchSchema(Schema):
    """The request: up to MAX_BATCH_EVENTS events."""

    class Meta:
        unknown = EXCLUDE

    events = fields.List(
        fields.Nested(BatchEntrySchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_BATCH_EVENTS),
    )


class EntryResultSchema(Schema):
    """What became of one event, in the request's order."""

    index = fields.Integer(required=True)
    idempotency_key = fields.String(required=True)
    status = fields.String(required=True, metadata=_about('accepted, replayed, conflict or invalid'))
    id = fields.String(
        required=True, allow_none=True, metadata=_about('the notification (none if invalid or a conflict)'),
    )
    notification_status = fields.String(required=True, allow_none=True)
    errors = fields.Dict(
        required=True, allow_none=True, metadata=_about('an invalid event: the error of each field'),
    )


class EventBatchResultSchema(Schema):
    """The answer: one result per event, and how many of each."""

    results = fields.List(fields.Nested(EntryResultSchema), required=True)  # noqa: WPS110 - the API's word
    accepted = fields.Integer(required=True)
    replayed = fields.Integer(required=True)
    conflicts = fields.Integer(required=True)
    invalid = fields.Integer(required=True)
