"""What a stage decided about a message; the runner carries it out.

The runner publishes every :class:`Forward` with confirms and only then acks,
so a crash in between redelivers the message instead of losing it.
"""

from collections.abc import Callable, Iterable, Mapping
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

    ``forward`` may be a lazy iterator (audience expansion does its reads and
    skips as it is drained). ``then`` runs once every forward is durable in
    its queue, and what it returns is published before the ack: a mailing
    moves its checkpoint there, and forwards its next page.
    """

    forward: Iterable[Forward] = field(default_factory=tuple)
    then: Callable[[], Iterable[Forward]] | None = None


@dataclass(frozen=True)
class Retry:
    """A temporary failure: wait in the next delay tier, then try again.

    A wait that is nobody's failure (another consumer holds the delivery) does not spend an
    attempt: it can never exhaust the retries and park a message that only had to wait.
    """

    reason: str
    spends_attempt: bool = True


@dataclass(frozen=True)
class Park:
    """Never retry: move the message to the parking lot with the reason."""

    reason: str


Outcome = Done | Retry | Park


class PoisonMessageError(ValueError):
    """A message that cannot be understood (not JSON, wrong schema)."""
