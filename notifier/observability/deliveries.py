"""The sender's metrics: how long a channel takes to send, how deliveries end, how long they took."""

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from notifier.channels.base import OutgoingMessage, SendResult
from notifier.models import DeliveryState
from notifier.observability import metrics
from notifier.pipeline.outcomes import Done, Outcome, Park


def timed_send(channel: str, send: Callable[[OutgoingMessage], SendResult], message: OutgoingMessage) -> SendResult:
    """Call a channel's ``send`` and observe how long it took (``notifier_send_seconds``)."""
    with metrics.send_seconds.labels(channel=channel).time():
        return send(message)


@dataclass(frozen=True)
class Completion:
    """A delivery the sender finished or will retry, and what its message says of its notification."""

    channel: str
    decision: Outcome
    accepted_at: dt.datetime | None
    urgency: str | None
    scale: str | None


def observe_completions(completions: Iterable[Completion], now: dt.datetime) -> None:
    """Count deliveries the sender finished (sent: Done, failed: Park) and their accept-to-sent latency.

    A retry is not an end: nothing is counted. The latency comes from the message (``accepted_at``);
    a message from before it carried one counts without a latency.
    """
    for completion in completions:
        if isinstance(completion.decision, Done):
            metrics.deliveries_completed.labels(channel=completion.channel, state=DeliveryState.sent).inc()
            _observe_latency(completion, now)
        elif isinstance(completion.decision, Park):
            metrics.deliveries_completed.labels(channel=completion.channel, state=DeliveryState.failed).inc()


def _observe_latency(completion: Completion, now: dt.datetime) -> None:
    if completion.accepted_at is None or completion.urgency is None or completion.scale is None:
        return
    metrics.delivery_latency_seconds.labels(
        channel=completion.channel, urgency=completion.urgency, scale=completion.scale,
    ).observe(max(0, (now - completion.accepted_at).total_seconds()))
