"""No test skips silently in CI: a missing component skips locally and fails under ``CI=true``."""

import re
from pathlib import Path

import pytest

from tests.plugins import components

REPO_ROOT = Path(__file__).resolve().parents[2]
TESTS_ROOT = REPO_ROOT / 'tests'
REASON = 'Chromium not found'
# The only skips left in the suite that are not about a missing component: the scheduler tests
# run on both databases, and three of them apply to one database alone.
BACKEND_SKIPS = {'tests/integration/test_schedules.py': 2, 'tests/integration/test_schedule_failures.py': 1}
SKIP_CALL = re.compile(r'pytest\.skip\(|importorskip\(|mark\.skip|skipif\(')


@pytest.fixture
def in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the helper as under GitHub Actions."""
    monkeypatch.setenv('CI', 'true')


@pytest.fixture
def on_a_laptop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the helper as on a developer's machine."""
    monkeypatch.delenv('CI', raising=False)


@pytest.mark.usefixtures('on_a_laptop')
def test_missing_component_skips_locally() -> None:
    """Without CI the test is skipped, with the reason."""
    with pytest.raises(pytest.skip.Exception, match=REASON):
        components.missing_component(REASON)


@pytest.mark.usefixtures('in_ci')
def test_missing_component_fails_in_ci() -> None:
    """Under CI=true the test fails instead, with the reason and why it did not skip."""
    with pytest.raises(pytest.fail.Exception) as failure:
        components.missing_component(REASON)

    assert str(failure.value) == '{0} (CI=true: a missing component fails the run instead of skipping the test)'.format(
        REASON,
    )


@pytest.mark.usefixtures('in_ci')
def test_missing_module_fails_in_ci() -> None:
    """A module that cannot be imported is a missing component too."""
    with pytest.raises(pytest.fail.Exception, match='selenium is not installed'):
        components.import_component('no_such_module_for_notifier_tests', 'selenium is not installed')


@pytest.mark.usefixtures('in_ci')
def test_present_module_is_imported() -> None:
    """A module that is there is returned, in CI as anywhere."""
    assert components.import_component('json', 'json is missing').dumps([]) == '[]'


def test_program_named_by_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The variable names the program (as CI names its Chromium); a name that is not there is missing."""
    program = tmp_path / 'chrome'
    program.write_text('#!/bin/sh\n', encoding='utf-8')
    program.chmod(0o755)  # noqa: WPS432 - an executable's mode
    monkeypatch.setenv('NOTIFIER_TEST_CHROMIUM', str(program))

    assert components.find_program('NOTIFIER_TEST_CHROMIUM', 'chromium') == str(program)

    monkeypatch.setenv('NOTIFIER_TEST_CHROMIUM', str(tmp_path / 'absent'))

    assert components.find_program('NOTIFIER_TEST_CHROMIUM', 'chromium') is None


def test_program_found_on_the_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without the variable, the first of the names found on PATH."""
    program = tmp_path / 'chromium-browser'
    program.write_text('#!/bin/sh\n', encoding='utf-8')
    program.chmod(0o755)  # noqa: WPS432 - an executable's mode
    monkeypatch.delenv('NOTIFIER_TEST_CHROMIUM', raising=False)
    monkeypatch.setenv('PATH', str(tmp_path))

    assert components.find_program('NOTIFIER_TEST_CHROMIUM', 'chromium', 'chromium-browser') == str(program)


def test_tests_skip_only_through_the_helper() -> None:
    """Every skip for want of a component goes through ``missing_component``, which fails in CI."""
    skips = {}
    for source in TESTS_ROOT.rglob('*.py'):
        found = len(SKIP_CALL.findall(source.read_text(encoding='utf-8')))
        if found:
            skips[str(source.relative_to(REPO_ROOT))] = found

    assert skips == {'tests/plugins/components.py': 1, **BACKEND_SKIPS}
