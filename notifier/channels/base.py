"""The channel contract: everything a channel plugin needs, and nothing else.

Plugins import only this module and :mod:`notifier.hookspecs`. A channel gets
a rendered message and answers with a :class:`SendResult` that tells a sent
message from a temporary failure (retry later) and a permanent one (park).
"""

import abc
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, TypeVar

from marshmallow import Schema, ValidationError


@dataclass(frozen=True)
class OutgoingMessage:
    """A rendered message for one recipient on one channel."""

    #: Deterministic per notification x recipient x channel: use it as the idempotency key.
    delivery_id: str
    notification_id: str
    #: The channel's address of the recipient (an email address for email).
    recipient: str
    subject: str
    html: str
    text: str
    headers: Mapping[str, str] = field(default_factory=dict)
    #: The template's other blocks by name (push: ``data``); empty for templates without any.
    blocks: Mapping[str, str] = field(default_factory=dict)


class AddressKind:
    """Which of a recipient's addresses (from the user directory) a channel delivers to."""

    email: Final = 'email'
    phone: Final = 'phone'
    #: One delivery per push token of the user (one per device).
    push_token: Final = 'push_token'
    user_id: Final = 'user_id'


class SendStatus:
    """What happened to a send."""

    sent: Final = 'sent'
    temporary_failure: Final = 'temporary_failure'
    permanent_failure: Final = 'permanent_failure'


@dataclass(frozen=True)
class SendResult:
    """The answer of :meth:`Channel.send`."""

    status: str
    detail: str = ''
    provider_message_id: str | None = None

    @classmethod
    def sent(cls, provider_message_id: str | None = None) -> 'SendResult':
        """The provider accepted the message."""
        return cls(SendStatus.sent, provider_message_id=provider_message_id)

    @classmethod
    def temporary(cls, detail: str) -> 'SendResult':
        """Try again later: the provider or the network had a passing problem."""
        return cls(SendStatus.temporary_failure, detail)

    @classmethod
    def permanent(cls, detail: str) -> 'SendResult':
        """Never retry: the address is invalid or the provider refused for good."""
        return cls(SendStatus.permanent_failure, detail)


#: Asked right before each message of a ``send_many`` goes out: whether it may still begin.
MayBegin = Callable[[], bool]


class ChannelSettingsError(ValueError):
    """A channel's ``NOTIFIER_<CHANNEL>_*`` settings did not validate."""


class Channel(abc.ABC):
    """A delivery channel; one instance per consumer process, reused across messages."""

    #: The channel's name, used in queue names, templates and settings (``NOTIFIER_<NAME>_*``).
    name: ClassVar[str]
    #: Validates and loads the channel's settings.
    settings_schema: ClassVar[type[Schema]]
    #: Which address of a recipient this channel sends to (:class:`AddressKind`).
    address_kind: ClassVar[str] = AddressKind.email

    def __init__(self, settings: Mapping[str, Any]) -> None:
        """Keep the validated settings."""
        self.settings = settings

    @classmethod
    def from_environment(cls, environment: Mapping[str, str]) -> 'Channel':
        """Validate raw settings with :attr:`settings_schema` and build the channel."""
        try:
            loaded = cls.settings_schema().load(dict(environment))
        except ValidationError as error:
            raise ChannelSettingsError(
                'bad settings for channel {0}: {1}'.format(cls.name, error.messages),
            ) from None
        return cls(loaded)

    @abc.abstractmethod
    def send(self, message: OutgoingMessage) -> SendResult:
        """Deliver one message; never raise for a provider's answer, return it."""

    def send_many(self, messages: Sequence[OutgoingMessage], may_begin: MayBegin) -> list[SendResult]:
        """Deliver messages in order, each begun only if ``may_begin()`` says so just before; their answers.

        The answers are those of the messages begun, in order: the first that ``may_begin()`` refused
        and every one after it are left unsent, and the sender gives them back. The default sends one
        at a time with :meth:`send`; a channel whose provider can overlap requests on one connection
        (SMTP ``PIPELINING``, HTTP/2) overrides it, calling ``may_begin()`` before each message goes out.
        """
        return send_while_allowed(messages, may_begin, self.send)

    def close(self) -> None:
        """Release connections; called when the consumer stops."""


Sent = TypeVar('Sent')


def send_while_allowed(
    outgoing: Iterable[Sent], may_begin: MayBegin, send: Callable[[Sent], SendResult],
) -> list[SendResult]:
    """``send`` each in order, each only if ``may_begin()`` says so right before; the answers of those sent.

    The one-at-a-time ``send_many`` of a channel (and of a transport a plugin keeps behind it).
    """
    answers = []
    for each in outgoing:
        if not may_begin():
            break
        answers.append(send(each))
    return answers
