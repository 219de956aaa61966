"""The sender's metrics: how long a channel takes to send, how deliveries end, how long they took."""

import datetime as dt
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from notifier.channels.base import SendResult
from notifier.models import DeliveryState
from notifier.observability import metrics
from notifier.pipeline.outcomes import Done, Outcome, Park


def timed_sends(
    channel: str, send_many: Callable[[], Sequence[SendResult]],
) -> Sequence[SendResult]:
    """Call a channel's ``send_many`` and observe each send's share of its time (``notifier_send_seconds``)."""
    started = time.monotonic()
    answers = send_many()
    if answers:
        share = (time.monotonic() - started) / len(answers)
        observed = metrics.send_seconds.labels(channel=channel)
        for _ in answers:
            observed.observe(share)
    return answers


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
