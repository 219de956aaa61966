"""Issue 4, "Nothing lost, nothing twice": each scenario injects one kind of fault into a flowing batch.

N = NOTIFIER_CHAOS_N (default 30, fast enough for ``make test``; the full run uses 1000).
The table of results is printed at the end (and appended to NOTIFIER_CHAOS_REPORT).
"""

import collections
import random
import time

import pytest

from notifier.settings import DEFAULT_SEND_CHUNK
from tests.chaos import faults
from tests.chaos.harness import (
    NOTHING, ChaosRun, Launcher, Layout, ScenarioResult, chaos_n, record, stage_crash_points,
)
from tests.chaos.services import broker_stopped
from tests.chaos.sink import Mode

pytestmark = [pytest.mark.chaos, pytest.mark.integration]

OUTAGE_SECONDS = 4.0
#: Scenario 4c: how long the sink takes to answer a mail it took (longer than the harness's email timeout).
HANG_SECONDS = 3.0
KILL_EVERY = 5.0
REASON_PREFIX = 60


def _timeout(count: int) -> float:
    return 90 + count * 0.3


def _drained(run: ChaosRun, scenario: str, excluded: frozenset[str] = NOTHING) -> ScenarioResult:
    count = chaos_n()
    drain = run.wait_quiet(_timeout(count))
    outcome = run.count(scenario, drain, excluded)
    if outcome.parked:
        outcome.details['parked_reasons'] = collections.Counter(
            reason[:REASON_PREFIX] for reason in faults.parked_reasons(run, outcome.parked)
        )
    record(outcome)
    return outcome


def _assert_no_other_exit(outcome: ScenarioResult, run: ChaosRun) -> None:
    """No process exited but the ones the scenario killed (a crash the supervisor restarted is a failure)."""
    assert outcome.crashes == 0, '{0}\n{1}'.format(run.supervisor.other_exits(), run.supervisor.logs()[-6000:])


def _assert_exact(outcome: ScenarioResult, run: ChaosRun) -> None:
    """Nothing lost, nothing twice, every history final and matching what the SMTP server got, no crash."""
    _assert_no_other_exit(outcome, run)
    context = '{0}\n{1}'.format(outcome.details, run.supervisor.logs()[-6000:])
    assert outcome.sent == chaos_n(), context
    assert outcome.lost == 0, context
    assert outcome.duplicated == 0, context
    assert outcome.unexpected == 0, context
    assert outcome.not_final == 0, context
    assert outcome.db_mismatch == 0, context


def test_baseline(launch: Launcher) -> None:
    """No fault: the yardstick for the others."""
    with launch('baseline', Layout()) as run:
        run.post(chaos_n())
        outcome = _drained(run, 'baseline (no fault)')
        _assert_exact(outcome, run)
        assert outcome.parked == 0


def test_sigkill_every_stage(launch: Launcher) -> None:
    """Crash points at every stage (not after the SMTP accept) plus random SIGKILLs: exact."""
    rng = random.Random(4)  # noqa: S311 - fault injection, not security
    with launch('sigkill', Layout(crash_points=stage_crash_points(with_after_send=False))) as run:
        with run.meanwhile(lambda: faults.kill_consumer(run, rng), KILL_EVERY):
            run.post(chaos_n())
            faults.wait_for_mails(run, chaos_n(), timeout=10)
        outcome = _drained(run, '1a SIGKILL stages (no after_send)')
        assert outcome.kills > 0
        _assert_exact(outcome, run)


def test_sigkill_after_smtp_accepted(launch: Launcher) -> None:
    """The documented window: a sender killed between SMTP accepts and its chunk's record sends those again.

    At most NOTIFIER_SEND_CHUNK mails per kill (docs/guarantees.md); the kills must have happened.
    """
    with launch('after-send', Layout(crash_points=stage_crash_points(with_after_send=True))) as run:
        run.post(chaos_n())
        outcome = _drained(run, '1b SIGKILL sender.after_send')
        window = run.supervisor.self_kills('consume-sender')
        outcome.details['after_send_crashes'] = window
        print('sender.after_send crashes: {0}, duplicates: {1}'.format(window, outcome.duplicated))  # noqa: WPS421
        assert window > 0, 'the crash point never fired: {0}'.format(outcome.details)
        _assert_no_other_exit(outcome, run)
        assert outcome.lost == 0, outcome.details
        assert outcome.duplicated <= window * DEFAULT_SEND_CHUNK, outcome.details
        assert outcome.not_final == 0, outcome.details


def test_broker_restart_and_closed_connections(launch: Launcher) -> None:
    """RabbitMQ's app stopped and started mid-batch, then every connection force-closed."""
    count = chaos_n()
    with launch('broker', Layout()) as run:
        with run.posting(count):
            faults.wait_for_mails(run, count // 4, timeout=30)
            with broker_stopped():
                time.sleep(OUTAGE_SECONDS)
        faults.wait_for_mails(run, count // 2, timeout=30)
        faults.close_connections(run)
        outcome = _drained(run, '2 RabbitMQ stop/start + close connections')
        _assert_exact(outcome, run)


def test_database_connections_terminated(launch: Launcher) -> None:
    """Every PostgreSQL connection of the service terminated, again and again, mid-batch."""
    count = chaos_n()
    with launch('postgres', Layout()) as run:
        with run.meanwhile(lambda: faults.terminate_database_connections(run), 0.7):
            with run.posting(count):
                faults.wait_for_mails(run, count // 4, timeout=30)
            faults.wait_for_mails(run, count, timeout=10)
        outcome = _drained(run, '3 pg_terminate_backend')
        _assert_exact(outcome, run)
        # No process may exit on its own: each exit hands every prefetched message back to the queue
        # and charges it against the delivery limit; without a supervisor the stage would stop.
        assert not run.supervisor.other_exits(), '{0}\n{1}'.format(
            run.supervisor.other_exits(), run.supervisor.logs()[-6000:],
        )


def test_smtp_temporary_failure_then_recovery(launch: Launcher) -> None:
    """451 for every mail for a while, then 250: all delivered after retries, none twice, none parked."""
    with launch('smtp451', Layout()) as run:
        run.sink.mode = Mode.temporary
        with run.posting(chaos_n()):
            time.sleep(2.5)
        run.sink.mode = Mode.normal
        outcome = _drained(run, '4a SMTP 451 then recovers')
        assert run.sink.rejected['451'] > 0
        _assert_exact(outcome, run)
        assert outcome.parked == 0


def test_smtp_hangs_then_recovers(launch: Launcher) -> None:
    """The SMTP server takes mails and answers only after the client's timeout, then recovers.

    A mail answered too late is uncertain: never sent again at once, only by the retry tier, so each late
    answer costs at most one extra copy (docs/guarantees.md, the duplicate window's case 2); nothing is lost.
    """
    with launch('smtphang', Layout()) as run:
        run.sink.hang_seconds = HANG_SECONDS
        run.sink.mode = Mode.hang
        with run.posting(chaos_n()):
            time.sleep(HANG_SECONDS)
        run.sink.mode = Mode.normal
        outcome = _drained(run, '4c SMTP hangs then recovers')
        late = run.sink.rejected['hang']
        outcome.details['late_answers'] = late
        assert late > 0, 'the sink never hung: {0}'.format(outcome.details)
        _assert_no_other_exit(outcome, run)
        assert outcome.lost == 0, outcome.details
        assert outcome.not_final == 0, outcome.details
        assert outcome.unexpected == 0, outcome.details
        assert outcome.parked == 0
        assert outcome.duplicated <= late, outcome.details
        too_soon = faults.resent_too_soon(run)
        assert not too_soon, (too_soon, outcome.details)


def test_smtp_permanent_failure_for_some(launch: Launcher) -> None:
    """550 for every fifth address: those fail and are parked with the reason; the rest delivered once."""
    count = chaos_n()
    refused = frozenset('u{0}@example.com'.format(index) for index in range(0, count, 5))
    with launch('smtp550', Layout()) as run:
        run.sink.refused = refused
        run.post(count)
        outcome = _drained(run, '4b SMTP 550 for 1 in 5', excluded=refused)
        assert outcome.lost == 0, outcome.details
        assert outcome.duplicated == 0, outcome.details
        assert outcome.not_final == 0, outcome.details
        assert outcome.parked == len(refused)
        _assert_no_other_exit(outcome, run)
        failed = run.isolated.query(
            "SELECT recipient, last_error FROM deliveries WHERE state = 'failed'",
        )
        assert {str(row[0]) for row in failed} == refused
        assert all('550' in str(row[1]) for row in failed), failed
        reasons = faults.parked_reasons(run, len(refused))
        assert all('550' in reason for reason in reasons), reasons


def test_poison_messages_are_parked(launch: Launcher) -> None:
    """Garbage published straight into every queue is parked with a reason; the real batch flows."""
    count = chaos_n()
    with launch('poison', Layout()) as run:
        poisoned = faults.publish_poison(run)
        run.post(count)
        outcome = _drained(run, '5 poison in every queue')
        _assert_exact(outcome, run)
        assert outcome.parked == poisoned
        reasons = faults.parked_reasons(run, poisoned)
        assert len(reasons) == poisoned
        assert all(reasons), reasons


def test_api_accepts_while_broker_is_down(launch: Launcher) -> None:
    """With RabbitMQ stopped the API still answers 202; the outbox relay delivers once it is back."""
    with launch('apidown', Layout()) as run:
        with broker_stopped():
            run.post(chaos_n())
            assert run.post_retries == 0, 'the API did not answer 202 to every POST'
        outcome = _drained(run, '6 API while broker down')
        _assert_exact(outcome, run)


def test_parking_lot_replayed_twice(launch: Launcher) -> None:
    """Everything parked (550s and poison) requeued twice: nothing is sent twice."""
    count = chaos_n()
    refused = frozenset('u{0}@example.com'.format(index) for index in range(0, count, 5))
    with launch('replay', Layout()) as run:
        run.sink.refused = refused
        faults.publish_poison(run)
        run.post(count)
        run.wait_quiet(_timeout(count))
        run.sink.refused = frozenset()
        for _ in range(2):
            faults.requeue_parking_lot(run)
            run.wait_quiet(_timeout(count))
        outcome = _drained(run, '7 parking lot replayed twice', excluded=refused)
        _assert_no_other_exit(outcome, run)
        assert outcome.duplicated == 0, outcome.details
        assert outcome.lost == 0, outcome.details
