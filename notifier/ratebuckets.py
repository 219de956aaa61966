"""Token buckets shared by every process through PostgreSQL: a limit's rate is a total, not a rate per process.

Each limit with a rate has one row in ``rate_buckets``: the time its next free
token comes (``next_free``, seconds since the epoch on the database's clock).
A process reserves a *grant* of a few tokens in one statement (the generic
cell rate algorithm): the row moves on by ``count / rate`` seconds, and the
grant may be used from where the row stood, or from a burst ago if the
bucket had been idle (:func:`reserve`). A process that dies holding a grant
loses at most those few tokens; there is nothing to hand back and no share
to wait for. See ``docs/decisions/0019-rate-limits-are-totals.md``.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Engine, Float, cast, create_engine, func, literal
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.elements import ColumnElement

from notifier.models import RateBucket

#: A grant is about this many seconds' worth of tokens ...
GRANT_SECONDS = 0.05
#: ... and never more than this many (so a dead process takes few with it).
MAX_GRANT = 50
#: An idle shared bucket saves up at most this many seconds' worth of tokens. Short: a total limit is a cap at
#: the provider, and every stall of the senders would otherwise be followed by a burst above the rate.
SHARED_BURST_SECONDS = 0.2
#: Tokens of a grant not used this long after it became usable are dropped: saved-up tokens of an idle
#: process must not add to the others' once it wakes up.
GRANT_TTL_SECONDS = 1.0

#: How the buckets' connections show in ``pg_stat_activity``.
APPLICATION_NAME = 'notifier-rate-buckets'


class Reserve(Protocol):
    """Where a limiter's grants come from."""

    def __call__(self, name: str, count: int, rate: float) -> float:
        """Reserve ``count`` tokens of the limit ``name`` at ``rate`` a second: the seconds until they may be used."""

    def close(self) -> None:
        """Let go of the connection, if any."""


def grant_size(rate: float) -> int:
    """How many tokens one reservation takes at ``rate`` a second."""
    return max(1, min(MAX_GRANT, int(rate * GRANT_SECONDS)))


def reserve(next_free: float | None, now: float, span: float, burst: float) -> float:
    """Where a bucket's next free token stands after a grant of ``span`` seconds' worth of tokens.

    The grant itself starts ``span`` before the returned time: where the bucket stood, or ``burst`` seconds
    ago if it stood further back (an idle bucket saves up at most a burst). A new bucket has saved nothing.
    """
    start = now if next_free is None else max(next_free, now - burst)
    return start + span


@dataclass
class Grant:
    """The tokens a process holds of one limit: usable from ``ready`` on, dropped after ``expires``."""

    tokens: int
    ready: float
    expires: float

    def usable(self, now: float) -> bool:
        """Whether a token is left and not stale."""
        return self.tokens > 0 and now < self.expires

    def take(self, now: float) -> float:
        """Take a token: how long to wait before using it."""
        self.tokens -= 1
        return max(0, self.ready - now)


def new_grant(count: int, wait: float, now: float) -> Grant:
    """A grant of ``count`` tokens reserved at ``now``, usable ``wait`` seconds later."""
    ready = now + max(0, wait)
    return Grant(tokens=count, ready=ready, expires=ready + GRANT_TTL_SECONDS)


class SharedBuckets:
    """Grants from the ``rate_buckets`` table of a PostgreSQL database, on a connection of their own.

    The connection commits each statement on its own without waiting for the WAL flush
    (``synchronous_commit=off``): a bucket that loses its last few milliseconds in a crash of the database
    only lets a few tokens go twice.
    """

    def __init__(self, database_url: str, burst: float, clock: Callable[[], float] | None = None) -> None:
        """``clock``: seconds since the epoch to use instead of the database's (tests pass a controlled one)."""
        self._burst = burst
        self._clock = clock
        self._engine: Engine = create_engine(
            database_url,
            isolation_level='AUTOCOMMIT',
            pool_size=1,
            connect_args={'options': '-c synchronous_commit=off', 'application_name': APPLICATION_NAME},
        )

    def __call__(self, name: str, count: int, rate: float) -> float:
        """Reserve ``count`` tokens of ``name`` at ``rate`` a second: the seconds until they may be used.

        One round trip (no ping first): a connection the database dropped since the last grant fails once,
        and the grant is asked again on a new one.
        """
        span = count / rate
        try:
            return self._reserve(name, span)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
        return self._reserve(name, span)

    def close(self) -> None:
        """Close the connection."""
        self._engine.dispose()

    def _reserve(self, name: str, span: float) -> float:
        now = self._now()
        upsert = insert(RateBucket).values(name=name, next_free=now + span)
        statement = upsert.on_conflict_do_update(
            index_elements=[RateBucket.name],
            set_={'next_free': func.greatest(RateBucket.next_free, now - self._burst) + span},
        ).returning(RateBucket.next_free, now)
        with self._engine.connect() as connection:
            next_free, database_now = connection.execute(statement).one()
        return float(next_free) - span - float(database_now)

    def _now(self) -> ColumnElement[float]:
        if self._clock is None:
            return cast(func.extract('epoch', func.statement_timestamp()), Float)
        return literal(self._clock(), Float)
