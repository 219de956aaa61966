"""Rate limits an operator changes at run time, totals over every process, and the slow start after a breaker opened.

A rate is read from the ``rate_limits`` table (``notifier limits set NAME RATE``)
at most every :data:`REFRESH_SECONDS` (the whole table in one query), so every
process picks a change up within seconds, without a restart. A name with no
row is not limited.

On PostgreSQL a rate is the total of every process: the tokens come in grants
of a few from a bucket shared through the database (:mod:`notifier.ratebuckets`).
On the embedded SQLite, where one process is the norm, each process keeps
its own token buckets.

A limit can be tied to a circuit breaker (:meth:`Limiter.slow_start`): while
the breaker recovers, the limit runs at the breaker's fraction of its rate.
A limit with no configured rate then ramps towards the rate this process
measured while it was healthy, in this process's own bucket: the fractions of
every process's measured rate add up to the fraction of the total (see
``docs/failover.md``).
"""

import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifier.models import RateLimit
from notifier.ratebuckets import Grant, Reserve, grant_size, new_grant

REFRESH_SECONDS = 2.0
#: A bucket holds at most this many seconds' worth of tokens (the burst).
BURST_SECONDS = 1.0
#: How a slow start measures the healthy rate of a limit that has no configured rate:
#: the best of the last few windows.
MEASURE_WINDOW_SECONDS = 5.0
MEASURE_WINDOWS = 6
#: A slow start never paces below this many calls a second (unless the configured rate is lower):
#: a process that measured nothing still moves, and no single wait gets long.
MIN_SLOW_START_RATE = 1.0

#: Names of the limits the pipeline applies.
GENERATOR_PUBLISH = 'generator.publish'
#: Requests to the user directory (the HTTP one).
USERS_DIRECTORY = 'users.directory'
CHANNEL_SEND = 'channel.{0}.send'
#: Sends to one recipient domain (email), e.g. ``channel.email.domain.gmail.com.send``.
DOMAIN_SEND = 'channel.{0}.domain.{1}.send'
#: What a limit name may look like (the API and the CLI check it).
LIMIT_NAME = re.compile(r'^[a-z0-9_.-]{1,128}$')


def channel_send(channel: str) -> str:
    """The limit name of a channel's send rate."""
    return CHANNEL_SEND.format(channel)


def send_limits(channel: str, recipient: str) -> list[str]:
    """The limits one send takes a token of: the channel's, and the recipient domain's for an address."""
    names = [channel_send(channel)]
    _, at_sign, domain = recipient.rpartition('@')
    domain_limit = DOMAIN_SEND.format(channel, domain.strip().rstrip('.').lower())
    if at_sign and domain.strip() and LIMIT_NAME.match(domain_limit):
        names.append(domain_limit)
    return names


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


#: Reads every configured rate (tokens per second) by limit name.
RatesLookup = Callable[[], Mapping[str, float]]


@dataclass
class SlowStart:
    """A limit tied to a breaker: scaled by ``factor()`` (below 1 while the breaker recovers)."""

    factor: Callable[[], float]
    window_start: float | None = None
    window_count: int = 0
    recent: deque[float] = field(default_factory=partial(deque, maxlen=MEASURE_WINDOWS))

    def rate(self, configured: float | None, now: float) -> float | None:
        """The rate in force: the configured one, or a fraction of it (or of the measured one) while recovering."""
        factor = self.factor()
        if factor >= 1:
            self._measure(now)
            return configured
        full = configured if configured is not None else max([MIN_SLOW_START_RATE, *self.recent])
        return min(full, max(MIN_SLOW_START_RATE, full * factor))

    def _measure(self, now: float) -> None:
        if self.window_start is None:
            self.window_start = now
        elif now - self.window_start >= MEASURE_WINDOW_SECONDS:
            self.recent.append(self.window_count / (now - self.window_start))
            self.window_start = now
            self.window_count = 0
        self.window_count += 1


class Limiter:
    """The rate limits of one process: grants from the shared buckets, or buckets of its own.

    Rates are refreshed from the database every few seconds.
    """

    def __init__(
        self,
        lookup: RatesLookup,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        shared: Reserve | None = None,
    ) -> None:
        """``lookup`` reads the rates; ``shared`` reserves tokens of the buckets every process shares.

        Without ``shared`` (the embedded SQLite) each limit is this process's own bucket. ``sleep`` waits and
        ``clock`` tells the time (tests pass fakes).
        """
        self._lookup = lookup
        self._sleep = sleep
        self._clock = clock
        self._shared = shared
        self._rates: Mapping[str, float] = {}
        self._read_at: float | None = None
        self._buckets: dict[str, TokenBucket] = {}
        self._grants: dict[str, Grant] = {}
        self._slow_starts: dict[str, SlowStart] = {}
        self._lock = threading.Lock()

    def acquire(self, name: str) -> float:
        """Wait for a token of ``name``; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            rate, configured = self._rate(name, now)
            if rate is None:
                delay: float = 0
            elif configured and self._shared is not None:
                delay = self._granted(self._shared, name, rate, now)
            else:
                delay = self._bucket(name, rate, now).delay_for_one(now)
        if delay > 0:
            self._sleep(delay)
        return delay

    def acquire_all(self, names: Iterable[str]) -> float:
        """Wait for a token of each limit in turn; returns the seconds waited."""
        return sum(self.acquire(name) for name in names)

    def rate_of(self, name: str) -> float | None:
        """The rate of ``name`` in force now (tokens per second), ``None`` when unlimited."""
        with self._lock:
            return self._rate(name, self._clock())[0]

    def close(self) -> None:
        """Close the shared buckets' connection (the process is done with its limits)."""
        if self._shared is not None:
            self._shared.close()

    def slow_start(self, name: str, factor: Callable[[], float]) -> None:
        """Scale the limit ``name`` by ``factor()`` from now on (a circuit breaker's slow start)."""
        with self._lock:
            self._slow_starts[name] = SlowStart(factor)

    def _rate(self, name: str, now: float) -> tuple[float | None, bool]:
        """The rate in force, and whether it comes from a configured rate (else from this process's measure)."""
        if self._read_at is None or now - self._read_at >= REFRESH_SECONDS:
            self._rates = self._lookup()
            self._read_at = now
        configured = self._rates.get(name)
        if configured is not None and configured <= 0:
            configured = None
        slow_start = self._slow_starts.get(name)
        rate = configured if slow_start is None else slow_start.rate(configured, now)
        return rate, configured is not None

    def _granted(self, shared: Reserve, name: str, rate: float, now: float) -> float:
        """A token of the grant this process holds of ``name``, after reserving a new grant if need be."""
        grant = self._grants.get(name)
        if grant is None or not grant.usable(now):
            count = grant_size(rate)
            grant = new_grant(count, shared(name, count, rate), now)
            self._grants[name] = grant
        return grant.take(now)

    def _bucket(self, name: str, rate: float, now: float) -> TokenBucket:
        bucket = self._buckets.get(name)
        if bucket is None:
            bucket = TokenBucket(rate, stamp=now)
            self._buckets[name] = bucket
        bucket.rate = rate
        return bucket


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


def rate_lookup(session_factory: Callable[[], Session]) -> RatesLookup:
    """A lookup for :class:`Limiter` that reads the whole table through its own short session."""
    return partial(_read_rates, session_factory)


def _read_rates(session_factory: Callable[[], Session]) -> dict[str, float]:
    with session_factory() as session:
        query = select(RateLimit.name, RateLimit.per_second).where(RateLimit.per_second > 0)
        return {limit_name: per_second for limit_name, per_second in session.execute(query)}
