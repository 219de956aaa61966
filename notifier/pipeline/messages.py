"""Schemas of the messages between stages; a message that fails them is poison.

The shapes follow the brief (``worker queue: email, template, fields``,
``email queue: email, content``) plus the ids that make each step idempotent.
"""

from collections.abc import Mapping
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields

from notifier.pipeline.outcomes import PoisonMessageError


class _StageSchema(Schema):
    class Meta:
        unknown = EXCLUDE


class NotificationMessageSchema(_StageSchema):
    """``notifications`` and ``generator`` queues: the brief's event plus its id."""

    notification_id = fields.String(required=True)


class WorkerMessageSchema(_StageSchema):
    """``worker`` queue: one recipient of a notification on one channel."""

    notification_id = fields.String(required=True)
    channel = fields.String(required=True)
    email = fields.String(required=True)
    template = fields.String(required=True)
    locale = fields.String(required=True)
    template_fields = fields.Dict(keys=fields.String(), data_key='fields', load_default=dict)
    #: The directory user this recipient is, if any (their preferences apply as well as the address's).
    user_id = fields.String(load_default=None, allow_none=True)
    #: The notification type's category (a message from before categories has none: derived from the type).
    category = fields.String(load_default=None, allow_none=True)
    #: A mailing's: render the template versions that were newest when it started (none: the newest).
    templates_as_of = fields.AwareDateTime(load_default=None, allow_none=True)


class ContentSchema(_StageSchema):
    """A rendered message."""

    subject = fields.String(required=True)
    html = fields.String(required=True)
    text = fields.String(required=True)
    #: The template's other blocks (push: ``data``).
    blocks = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)


class ChannelMessageSchema(_StageSchema):
    """``channel.<name>`` queues: a rendered message for one delivery."""

    delivery_id = fields.String(required=True)
    notification_id = fields.String(required=True)
    channel = fields.String(required=True)
    email = fields.String(required=True)
    rendered = fields.Nested(ContentSchema, data_key='content', required=True)
    user_id = fields.String(load_default=None, allow_none=True)
    category = fields.String(load_default=None, allow_none=True)
    #: Extra headers for the channel (``List-Unsubscribe`` of email).
    headers = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    #: When the notification was accepted, and its kind: the sender's latency metric needs no query.
    accepted_at = fields.AwareDateTime(load_default=None, allow_none=True)
    urgency = fields.String(load_default=None, allow_none=True)
    scale = fields.String(load_default=None, allow_none=True)


#: A schema, or its class (built for the call).
SchemaLike = Schema | type[Schema]


def load_message(schema: SchemaLike, body: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a message body, or raise :class:`PoisonMessageError` with the field errors.

    Pass a schema instance on a hot path: building one costs more than loading a message with it.
    """
    instance = schema() if isinstance(schema, type) else schema
    try:
        loaded: dict[str, Any] = instance.load(body)
    except ValidationError as error:
        raise PoisonMessageError('message does not match {0}: {1}'.format(
            type(instance).__name__, error.messages,
        )) from None
    return loaded
