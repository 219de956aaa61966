"""Fixtures of the fault-injection suite: the SMTP sink and a launcher of isolated, running services."""

import os

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import pytest

from tests.chaos.harness import REPO, SCENARIO_ROWS, VENV_BIN, ChaosRun, Launcher, Layout, ScenarioResult
from tests.chaos.services import isolated_services, wait_broker_healthy
from tests.chaos.sink import ChaosSink, running_sink
from tests.plugins.services import require_service


#: The scenarios ``make test`` runs; ``make chaos`` (NOTIFIER_CHAOS_FULL=1) runs them all.
FAST_SUBSET = frozenset((
    'test_baseline',
    'test_sigkill_after_smtp_accepted',
    'test_poison_messages_are_parked',
    'test_smtp_temporary_failure_then_recovery',
))


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item],  # noqa: WPS110 - pytest names the argument ``items``
) -> None:
    """Outside ``make chaos``, keep the fast subset of the scenarios (tests not marked ``chaos`` always run)."""
    if os.environ.get('NOTIFIER_CHAOS_FULL'):
        return
    deselected = [
        test for test in items
        if test.get_closest_marker('chaos') is not None and test.originalname not in FAST_SUBSET
    ]
    for test in deselected:
        items.remove(test)
    if deselected:
        config.hook.pytest_deselected(items=deselected)


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``chaos`` marker (the repo runs with --strict-markers)."""
    config.addinivalue_line('markers', 'chaos: fault-injection scenario against real services and processes')


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The table of every scenario that ran."""
    if SCENARIO_ROWS:
        terminalreporter.write_sep('=', 'chaos results')
        terminalreporter.write_line(ScenarioResult.header())
        for row in SCENARIO_ROWS:
            terminalreporter.write_line(row.row())


@pytest.fixture(scope='session')
def sink() -> Iterator[ChaosSink]:
    """The SMTP sink every scenario's senders deliver to."""
    with running_sink() as running:
        yield running


@contextmanager
def _launched(sink: ChaosSink, workdir: Path, name: str, layout: Layout) -> Iterator[ChaosRun]:
    sink.reset()
    with isolated_services(name, VENV_BIN, str(REPO)) as isolated:
        run = ChaosRun(name, isolated, sink, workdir, layout)
        try:
            run.start()
            yield run
        except BaseException:
            print('process logs (warnings and errors):\n{0}'.format(run.supervisor.logs()[-8000:]))  # noqa: WPS421
            raise
        finally:
            run.supervisor.stop()
            wait_broker_healthy()


@pytest.fixture
def launch(sink: ChaosSink, tmp_path: Path) -> Launcher:
    """``with launch(name, layout) as run``: fresh vhost + database, the processes started, all cleaned up."""
    require_service('RabbitMQ', '127.0.0.1', 5672)
    require_service('PostgreSQL', '127.0.0.1', 5432)
    return partial(_launched, sink, tmp_path)
