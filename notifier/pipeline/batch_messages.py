"""The messages of a batch as the runner holds them, and what a batch leads to.

A message is either delivered by the broker or handed on by a chained stage
of the same process (decision 15): both are retried or parked the same way,
under the routing key they have.
"""

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from notifier.constants import ATTEMPT_HEADER, REPLAY_HEADER
from notifier.observability import log_context
from notifier.pipeline.envelopes import IncomingMessage, OutgoingMessage
from notifier.pipeline.outcomes import Forward, PoisonMessageError

#: The ids of a message body that log lines of its handling show.
LOGGED_IDS = ('notification_id', 'delivery_id')
#: Above this an attempt header is not a count of ours (it counts as the first).
MAX_ATTEMPT = 1000

#: A message's JSON object, or why it has none (it is parked).
Decoded = dict[str, Any] | PoisonMessageError
#: What runs once a batch's messages are durable (a mailing's checkpoint), and what it forwards.
Continuation = Callable[[], Iterable[Forward]]


def decode_body(raw: bytes) -> dict[str, Any]:
    """The JSON object of a message, or :class:`PoisonMessageError`."""
    try:
        decoded = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PoisonMessageError('message is not JSON: {0}'.format(error)) from None
    if not isinstance(decoded, dict):
        raise PoisonMessageError('message is JSON but not an object')
    return decoded


def _decoded(raw: bytes) -> Decoded:
    try:
        return decode_body(raw)
    except PoisonMessageError as error:
        return error


def attempt_of(headers: Mapping[str, Any]) -> int:
    """This delivery's attempt (1 for the first); a header that is not a small count counts as the first."""
    previous = headers.get(ATTEMPT_HEADER, 0)
    if isinstance(previous, bool) or not isinstance(previous, int) or not 0 <= previous < MAX_ATTEMPT:
        return 1
    return previous + 1


def _with_request(request_id: str | None, headers: Mapping[str, Any]) -> dict[str, Any]:
    """Headers that carry ``request_id`` on to the next stage."""
    request = {log_context.REQUEST_ID_HEADER: request_id} if request_id else {}
    return {**request, **headers}


@dataclass
class BatchMessage:
    """One message of a batch: delivered by the broker, or handed on by a chained stage (``incoming`` None)."""

    routing_key: str
    #: The body as delivered; ``None`` for a chained message (encoded only if it is retried or parked).
    raw: bytes | None
    body: Decoded
    headers: Mapping[str, Any]
    message_id: str | None
    incoming: IncomingMessage | None = None

    @property
    def attempt(self) -> int:
        """Which attempt this is."""
        return attempt_of(self.headers)

    @property
    def replayed(self) -> bool:
        """An operator replayed it from the parking lot."""
        return bool(self.headers.get(REPLAY_HEADER))

    @property
    def request_id(self) -> str | None:
        """The request id it carries, if it is safe to log."""
        return log_context.clean_id(self.headers.get(log_context.REQUEST_ID_HEADER))

    @classmethod
    def delivered(cls, incoming: IncomingMessage) -> 'BatchMessage':
        """A delivered message (its body decoded once)."""
        return cls(
            routing_key=incoming.routing_key,
            raw=incoming.body,
            body=_decoded(incoming.body),
            headers=incoming.headers,
            message_id=incoming.message_id,
            incoming=incoming,
        )

    @classmethod
    def chained(cls, forward: Forward, parent: 'BatchMessage') -> 'BatchMessage':
        """A message a stage forwarded to a chained stage (never published, unless it must be retried)."""
        return cls(
            routing_key=forward.routing_key,
            raw=None,
            body=dict(forward.body),
            headers=_with_request(parent.request_id, forward.headers),
            message_id=forward.message_id,
        )

    def wire(self) -> bytes | Mapping[str, Any]:
        """What to publish to send it again: the bytes delivered (a poison body as it was), or the body."""
        if self.raw is not None or isinstance(self.body, PoisonMessageError):
            return self.raw or b''
        return self.body

    def headers_again(self) -> dict[str, Any]:
        """Its own headers, for publishing it again (a retry or a park), with its request id."""
        return _with_request(self.request_id, self.headers)

    def forwarded(self, forward: Forward) -> OutgoingMessage:
        """What this message forwards, as published: with this message's request id."""
        headers = _with_request(self.request_id, forward.headers)
        return OutgoingMessage(forward.routing_key, forward.body, forward.message_id, headers)


@dataclass(frozen=True)
class AfterPublish:
    """A continuation of a message, run once the batch's messages are durable."""

    run: Continuation
    message: BatchMessage


@dataclass
class Plan:
    """What a batch leads to: messages to publish, then what runs once they are durable."""

    publish: list[OutgoingMessage] = field(default_factory=list)
    then: list[AfterPublish] = field(default_factory=list)
    forwarded: int = 0

    def extend(self, other: 'Plan') -> None:
        """Add a chained stage's plan."""
        self.publish.extend(other.publish)
        self.then.extend(other.then)
        self.forwarded += other.forwarded


def _common(candidates: Iterable[str | None]) -> str | None:
    distinct = set(candidates)
    return distinct.pop() if len(distinct) == 1 else None


def bound_to(messages: Sequence[BatchMessage], stage_name: str) -> AbstractContextManager[log_context.LogFields]:
    """The log context of a batch: the stage, and the request and ids its messages share, if they share one."""
    bodies = [message.body for message in messages if not isinstance(message.body, PoisonMessageError)]
    ids = {
        name: _common(log_context.clean_id(body.get(name)) for body in bodies) for name in LOGGED_IDS
    }
    request_id = _common(message.request_id for message in messages)
    return log_context.bound(request_id=request_id or log_context.new_request_id(), stage=stage_name, **ids)
