"""Token buckets whose rates an operator changes at run time.

A rate is read from the ``rate_limits`` table (``notifier limits set NAME RATE``)
at most every :data:`REFRESH_SECONDS`, so every process picks a change up
within seconds, without a restart. A name with no row is not limited.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifier.models import RateLimit

REFRESH_SECONDS = 2.0
#: A bucket holds at most this many seconds' worth of tokens (the burst).
BURST_SECONDS = 1.0

#: Names of the limits the pipeline applies.
GENERATOR_PUBLISH = 'generator.publish'
CHANNEL_SEND = 'channel.{0}.send'


def channel_send(channel: str) -> str:
    """The limit name of a channel's send rate."""
    return CHANNEL_SEND.format(channel)


@dataclass
class TokenBucket:
    """``rate`` tokens a second, at most ``rate * BURST_SECONDS`` saved up."""

    rate: float
    tokens: float = 0
    stamp: float = field(default_factory=time.monotonic)

    def delay_for_one(self, now: float) -> float:
        """Take a token; how long to wait before using it (0 when one was there)."""
        capacity = max(1.0, self.rate * BURST_SECONDS)
        self.tokens = min(capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        self.tokens -= 1
        if self.tokens >= 0:
            return 0
        return -self.tokens / self.rate


#: Reads the configured rate of a limit (tokens per second), ``None`` when unlimited.
RateLookup = Callable[[str], float | None]


class Limiter:
    """The buckets of one process, refreshed from the database every few seconds."""

    def __init__(self, lookup: RateLookup, sleep: Callable[[float], None] = time.sleep) -> None:
        """``lookup`` reads a rate; ``sleep`` waits (tests pass a fake clock)."""
        self._lookup = lookup
        self._sleep = sleep
        self._buckets: dict[str, TokenBucket] = {}
        self._read_at: dict[str, float] = {}
        self._lock = threading.Lock()

    def acquire(self, name: str) -> float:
        """Wait for a token of ``name``; returns the seconds waited."""
        with self._lock:
            bucket = self._bucket(name, time.monotonic())
            delay = 0 if bucket is None else bucket.delay_for_one(time.monotonic())
        if delay > 0:
            self._sleep(delay)
        return delay

    def _bucket(self, name: str, now: float) -> TokenBucket | None:
        if now - self._read_at.get(name, -REFRESH_SECONDS) >= REFRESH_SECONDS:
            self._read_at[name] = now
            rate = self._lookup(name)
            if rate is None or rate <= 0:
                self._buckets.pop(name, None)
            elif name not in self._buckets:
                self._buckets[name] = TokenBucket(rate)
            else:
                self._buckets[name].rate = rate
        return self._buckets.get(name)


def parse_rate(text: str) -> float:
    """``500/s``, ``30/m``, ``7200/h`` or a plain number per second."""
    number, _, unit = text.strip().partition('/')
    seconds = {'': 1, 's': 1, 'm': 60, 'h': 3600}.get(unit.strip())
    try:
        count = float(number)
    except ValueError:
        raise ValueError('{0!r} is not a rate like 500/s, 30/m or 7200/h'.format(text)) from None
    if seconds is None or count <= 0:
        raise ValueError('{0!r} is not a rate like 500/s, 30/m or 7200/h'.format(text))
    return count / seconds


def rate_lookup(session_factory: Callable[[], Session]) -> RateLookup:
    """A lookup for :class:`notifier.ratelimit.Limiter` that reads through its own short sessions."""

    def lookup(name: str) -> float | None:  # noqa: WPS430 - a closure over the session factory
        with session_factory() as session:
            return session.scalar(select(RateLimit.per_second).where(RateLimit.name == name))

    return lookup
