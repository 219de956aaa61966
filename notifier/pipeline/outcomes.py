"""What a stage decided about a message; the runner carries it out.

The runner publishes every :class:`Forward` with confirms and only then acks,
so a crash in between redelivers the message instead of losing it.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Forward:
    """A message for the next stage."""

    routing_key: str
    body: Mapping[str, Any]
    message_id: str
    #: AMQP headers of its own; the runner adds the request id of the message it handles.
    headers: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Done:
    """The message is handled; publish these, then ack.

    ``forward`` may be a lazy iterator (audience expansion): the runner
    publishes each message before it asks for the next one.
    """

    forward: Iterable[Forward] = field(default_factory=tuple)


@dataclass(frozen=True)
class Retry:
    """A temporary failure: wait in the next delay tier, then try again."""

    reason: str


@dataclass(frozen=True)
class Park:
    """Never retry: move the message to the parking lot with the reason."""

    reason: str


Outcome = Done | Retry | Park


class PoisonMessageError(ValueError):
    """A message that cannot be understood (not JSON, wrong schema)."""
