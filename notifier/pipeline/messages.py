"""Schemas of the messages between stages; a message that fails them is poison.

The shapes follow the brief (``worker queue: email, template, fields``,
``email queue: email, content``) plus the ids that make each step idempotent.

Every message of a mailing is validated once per stage, so these are pydantic
models (validated in pydantic-core) rather than marshmallow schemas: a
marshmallow load of a rendered message cost about 100 µs, a tenth of a
mail's CPU (decision 17). What the HTTP API takes stays marshmallow.
"""

from collections.abc import Mapping
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from notifier.pipeline.outcomes import PoisonMessageError


class _StageSchema(BaseModel):
    """Unknown keys are ignored (a newer producer may add some); no value is coerced to a string."""

    model_config = ConfigDict(extra='ignore', frozen=True)


class NotificationMessageSchema(_StageSchema):
    """``notifications`` and ``generator`` queues: the brief's event plus its id."""

    notification_id: str


class WorkerMessageSchema(_StageSchema):
    """``worker`` queue: one recipient of a notification on one channel."""

    notification_id: str
    channel: str
    email: str
    template: str
    locale: str
    template_fields: dict[str, Any] = Field(alias='fields', default_factory=dict)
    #: The directory user this recipient is, if any (their preferences apply as well as the address's).
    user_id: str | None = None
    #: The notification type's category (a message from before categories has none: derived from the type).
    category: str | None = None
    #: A mailing's: render the template versions that were newest when it started (none: the newest).
    templates_as_of: AwareDatetime | None = None


class ContentSchema(_StageSchema):
    """A rendered message."""

    subject: str
    html: str
    text: str
    #: The template's other blocks (push: ``data``).
    blocks: dict[str, str] = Field(default_factory=dict)


class ChannelMessageSchema(_StageSchema):
    """``channel.<name>`` queues: a rendered message for one delivery."""

    delivery_id: str
    notification_id: str
    channel: str
    email: str
    rendered: ContentSchema = Field(alias='content')
    user_id: str | None = None
    category: str | None = None
    #: Extra headers for the channel (``List-Unsubscribe`` of email).
    headers: dict[str, str] = Field(default_factory=dict)
    #: When the notification was accepted, and its kind: the sender's latency metric needs no query.
    accepted_at: AwareDatetime | None = None
    urgency: str | None = None
    scale: str | None = None


def load_message(schema: type[_StageSchema], body: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a message body, or raise :class:`PoisonMessageError` with the field errors."""
    try:
        loaded = schema.model_validate(body)
    except ValidationError as error:
        raise PoisonMessageError('message does not match {0}: {1}'.format(
            schema.__name__, _field_errors(error),
        )) from None
    return loaded.model_dump()


def _field_errors(error: ValidationError) -> dict[str, list[str]]:
    """``{'content.subject': ['Field required']}``: where each error is, and what it says."""
    found: dict[str, list[str]] = {}
    for each in error.errors(include_url=False, include_input=False):
        where = '.'.join(str(part) for part in each['loc']) or '(message)'
        found.setdefault(where, []).append(each['msg'])
    return found
