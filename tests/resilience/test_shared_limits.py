"""Limits that are totals, on PostgreSQL: limiters in separate processes share one bucket's tokens.

Every process runs a real :class:`Limiter` on the migrated database (its rate read from ``rate_limits``, its
grants from ``rate_buckets``) on one controlled clock, frozen at the same moment for all of them: a token's
wait then says where it sits in the shared schedule, so counting the tokens whose wait is within a window
checks the sharing exactly, without timing anything.
"""

import multiprocessing
import os
import signal
import uuid
from collections.abc import Iterator
from multiprocessing.synchronize import Barrier, Event

import pytest
import sqlalchemy
from sqlalchemy.orm import Session

from notifier.models import RateLimit
from notifier.pipeline.dependencies import shared_buckets
from notifier.ratebuckets import APPLICATION_NAME, SHARED_BURST_SECONDS, SharedBuckets, grant_size, reserve
from notifier.ratelimit import Limiter, rate_lookup
from notifier.settings import Settings

RATE = 100.0
#: A window that ends half a grant past a grant's start (no float lands on the edge).
WINDOW = 20.025
FROZEN = 1_800_000_000.0  # seconds since the epoch, the same in every process
CONTEXT = multiprocessing.get_context('fork')


@pytest.fixture
def limit_name(migrated_postgres: str) -> Iterator[str]:
    """A limit of this test only, at RATE a second."""
    name = 'test.{0}.send'.format(uuid.uuid4().hex[:12])
    engine = sqlalchemy.create_engine(migrated_postgres)
    with Session(engine) as session:
        session.add(RateLimit(name=name, per_second=RATE))
        session.commit()
    yield name
    with Session(engine) as session:
        session.execute(sqlalchemy.text('DELETE FROM rate_limits WHERE name = :name'), {'name': name})
        session.execute(sqlalchemy.text('DELETE FROM rate_buckets WHERE name = :name'), {'name': name})
        session.commit()
    engine.dispose()


def _limiter(database_url: str) -> Limiter:
    engine = sqlalchemy.create_engine(database_url)
    shared = SharedBuckets(database_url, burst=SHARED_BURST_SECONDS, clock=lambda: FROZEN)
    return Limiter(rate_lookup(lambda: Session(engine)), sleep=lambda _: None, clock=lambda: FROZEN, shared=shared)


def _take_until_window(database_url: str, name: str, first_done: Barrier, counts: 'multiprocessing.Queue[int]') -> None:
    """Take tokens until one would wait past WINDOW; report how many came within it."""
    limiter = _limiter(database_url)
    taken = 1 if limiter.acquire(name) <= WINDOW else 0
    first_done.wait(timeout=60)  # every process holds a grant before any goes on
    while limiter.acquire(name) <= WINDOW:
        taken += 1
    counts.put(taken)


def _take_one_and_hang(database_url: str, name: str, holds: Event) -> None:
    """Take one token (a grant of several), say so, and wait to be killed."""
    _limiter(database_url).acquire(name)
    holds.set()
    signal.pause()


def _within_window() -> int:
    """The tokens of every grant that starts within WINDOW of a new bucket (the rule ``rate_buckets`` applies)."""
    span = grant_size(RATE) / RATE
    next_free = None
    grants = 0
    while True:
        next_free = reserve(next_free, FROZEN, span, SHARED_BURST_SECONDS)
        if next_free - span - FROZEN > WINDOW:
            return grants * grant_size(RATE)
        grants += 1


def _run_takers(database_url: str, name: str, taking: int, hanging: int = 0) -> list[int]:
    """Start ``hanging`` processes that each take a grant and are then SIGKILLed, and ``taking`` ones; their counts.

    The takers take their first grant, then wait until the hanging ones were killed before they go on.
    """
    first_done = CONTEXT.Barrier(taking + 1)
    counts: 'multiprocessing.Queue[int]' = CONTEXT.Queue()
    arguments = (database_url, name, first_done, counts)
    takers = [CONTEXT.Process(target=_take_until_window, args=arguments) for _ in range(taking)]
    for process in takers:
        process.start()
    for _ in range(hanging):
        holds = CONTEXT.Event()
        doomed = CONTEXT.Process(target=_take_one_and_hang, args=(database_url, name, holds))
        doomed.start()
        assert holds.wait(timeout=120), 'the process did not take its grant'
        assert doomed.pid is not None
        os.kill(doomed.pid, signal.SIGKILL)  # while it holds the rest of its grant
        doomed.join(timeout=60)
    first_done.wait(timeout=120)
    found = [counts.get(timeout=120) for _ in takers]
    for process in takers:
        process.join(timeout=60)
        assert process.exitcode == 0
    return found


@pytest.mark.parametrize('processes', [1, 2, 3])
def test_limiters_in_separate_processes_share_the_rate_as_one_total(
    migrated_postgres: str, limit_name: str, processes: int,
) -> None:
    found = _run_takers(migrated_postgres, limit_name, taking=processes)

    assert sum(found) == _within_window()  # RATE × WINDOW tokens, give or take a grant: not RATE × WINDOW each
    assert sum(found) == pytest.approx(RATE * WINDOW, abs=grant_size(RATE))
    assert all(count >= grant_size(RATE) for count in found)  # each took its grants from the one bucket


def test_a_killed_process_s_tokens_go_to_the_others_without_waiting_for_it(
    migrated_postgres: str, limit_name: str,
) -> None:
    found = _run_takers(migrated_postgres, limit_name, taking=2, hanging=1)

    # The two live ones take everything but the one grant the dead process held.
    assert sum(found) == _within_window() - grant_size(RATE)


def test_a_grant_is_asked_again_on_a_new_connection_when_the_database_dropped_the_old_one(
    migrated_postgres: str, limit_name: str,
) -> None:
    buckets = SharedBuckets(migrated_postgres, burst=SHARED_BURST_SECONDS, clock=lambda: FROZEN)
    assert buckets(limit_name, 5, RATE) == 0  # a new bucket: usable at once
    engine = sqlalchemy.create_engine(migrated_postgres)
    with engine.begin() as connection:
        dropped = connection.execute(sqlalchemy.text(
            'SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity '
            'WHERE datname = current_database() AND application_name = :name',
        ), {'name': APPLICATION_NAME}).scalar_one()
    engine.dispose()
    assert dropped >= 1  # (and those of earlier tests' consumers in this database, if any)

    assert buckets(limit_name, 5, RATE) == pytest.approx(5 / RATE)  # the next grant, after the first one
    buckets.close()


@pytest.mark.parametrize(('url', 'shared'), [
    ('postgresql+psycopg://postgres@127.0.0.1:5432/anything', True),
    ('sqlite:////tmp/notifier.db', False),
    ('', False),  # the embedded default
])
def test_the_pipeline_shares_its_buckets_on_postgresql_and_keeps_its_own_on_sqlite(url: str, shared: bool) -> None:
    buckets = shared_buckets(Settings(database_url=url))

    assert isinstance(buckets, SharedBuckets) is shared
