"""The GitHub Actions workflows: when they run and what they report.

The schema and expressions are checked by ``scripts/lint-deploy.sh``
(check-jsonschema, actionlint); these tests pin the project's choices.
What the lint jobs run is in ``test_lint_job.py``.
"""

import json
import re
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO_ROOT / '.github' / 'workflows'
WORKFLOW_PATH = WORKFLOWS / 'ci.yml'
CHAOS_PATH = WORKFLOWS / 'chaos.yml'
NOTIFY_SCRIPT = REPO_ROOT / '.github' / 'scripts' / 'notify_telegram.py'
NOTIFY_COMMAND = 'python .github/scripts/notify_telegram.py'
STEPS_OUTPUT = '${{ toJSON(steps) }}'
LEG_OUTPUT = re.compile(r"\$\{\{ matrix\.python-version == '(?P<python>[0-9.]+)' && toJSON\(steps\) \|\| '' \}\}")
MATRIX_SUFFIX = ' (Python ${{ matrix.python-version }})'
COMMIT_LENGTH = 40


def _load(path: Path) -> dict[Any, Any]:
    with path.open(encoding='utf-8') as workflow_file:
        parsed: dict[Any, Any] = yaml.safe_load(workflow_file)
    return parsed


def _load_notify_script() -> ModuleType:
    spec = spec_from_file_location('notify_telegram', NOTIFY_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


notify_telegram = _load_notify_script()


@pytest.fixture(scope='module')
def workflow() -> dict[Any, Any]:
    """The parsed ``ci.yml``."""
    return _load(WORKFLOW_PATH)


@pytest.fixture(scope='module')
def chaos_workflow() -> dict[Any, Any]:
    """The parsed ``chaos.yml``."""
    return _load(CHAOS_PATH)


def test_runs_only_on_pull_requests(workflow: dict[Any, Any]) -> None:
    """Triggers: pull requests to main and manual runs, never pushes."""
    # YAML 1.1 (PyYAML) reads the bare key `on` as the boolean True.
    triggers = workflow.get('on', workflow.get(True))

    assert triggers == {
        'pull_request': {'branches': ['main']},
        'workflow_dispatch': None,
    }


def test_tests_supported_pythons(workflow: dict[Any, Any]) -> None:
    """The test matrix is the supported CPython versions."""
    matrix = workflow['jobs']['test']['strategy']['matrix']

    assert matrix['python-version'] == ['3.10', '3.11', '3.12', '3.13']


def test_jobs(workflow: dict[Any, Any]) -> None:
    """Lint, type check, tests, then the notification."""
    assert list(workflow['jobs']) == ['lint', 'typecheck', 'test', 'notify']


def test_notify_reports_every_job(workflow: dict[Any, Any]) -> None:
    """The notify job runs always, after all others, with their results."""
    notify_job = workflow['jobs']['notify']
    notify_step = notify_job['steps'][-1]

    assert notify_job['needs'] == ['lint', 'typecheck', 'test']
    assert notify_job['if'] == 'always()'
    assert notify_step['env']['NEEDS_JSON'] == '${{ toJSON(needs) }}'
    assert notify_step['run'] == NOTIFY_COMMAND


def test_tests_run_on_the_matrix_python(workflow: dict[Any, Any]) -> None:
    """`make test` builds its venv from the interpreter setup-python installed."""
    test_steps = workflow['jobs']['test']['steps']

    assert workflow['env']['PYTHON'] == 'python'
    assert test_steps[1]['with']['python-version'] == '${{ matrix.python-version }}'
    assert test_steps[-1]['run'] == 'make test'


def test_test_job_installs_chromium_and_its_driver(workflow: dict[Any, Any]) -> None:
    """The browser test gets a browser and driver in CI, and a missing one fails the run (CI=true)."""
    test_job = workflow['jobs']['test']
    chromium = next(step for step in test_job['steps'] if step.get('id') == 'chromium')
    tests_env = test_job['steps'][-1]['env']

    assert chromium['uses'] == 'browser-actions/setup-chrome@v2'
    assert chromium['with']['install-chromedriver'] is True
    assert tests_env['NOTIFIER_TEST_CHROMIUM'] == '${{ steps.chromium.outputs.chrome-path }}'
    assert tests_env['NOTIFIER_TEST_CHROMEDRIVER'] == '${{ steps.chromium.outputs.chromedriver-path }}'
    assert test_job['env']['CI'] == 'true'


@pytest.mark.parametrize('path', [WORKFLOW_PATH, CHAOS_PATH], ids=lambda path: path.name)
def test_every_test_setting_is_read_by_the_tests(path: Path) -> None:
    """Each NOTIFIER_TEST_* and NOTIFIER_CHAOS_* variable the workflow sets is one the tests read."""
    test_sources = '\n'.join(
        source.read_text(encoding='utf-8') for source in (REPO_ROOT / 'tests').rglob('*.py')
    )
    scopes = [scope for job in _load(path)['jobs'].values() for scope in (job, *job['steps'])]
    workflow_variables = {
        name
        for scope in scopes
        for name in scope.get('env', {})
        if name.startswith(('NOTIFIER_TEST_', 'NOTIFIER_CHAOS_'))
    }

    assert workflow_variables
    unread = sorted(name for name in workflow_variables if "'{0}'".format(name) not in test_sources)
    assert not unread


def _steps_json(step_ids: list[str], failed_id: str) -> str:
    """``toJSON(steps)`` of a job in which ``failed_id`` failed and the others passed."""
    conclusions = {step_id: 'success' for step_id in step_ids}
    conclusions[failed_id] = 'failure'
    return json.dumps({
        step_id: {'outputs': {}, 'outcome': conclusions[step_id], 'conclusion': conclusions[step_id]}
        for step_id in step_ids
    })


def _evaluate_output(expression: str, steps_json: str, python: str | None) -> str:
    """What GitHub stores for one job output: the two forms the workflows use, evaluated."""
    if expression == STEPS_OUTPUT:
        return steps_json
    leg = LEG_OUTPUT.fullmatch(expression)
    assert leg is not None, 'an output notify_telegram.py does not read: {0}'.format(expression)
    return steps_json if leg['python'] == python else ''


def _needs_with_failed_step(
    workflow: dict[Any, Any], failed_job: str, failed_step: str, python: str | None,
) -> dict[str, Any]:
    """``toJSON(needs)`` of the notify job when one step of one job (of one matrix leg) failed."""
    needs = {}
    for job_name in workflow['jobs']['notify']['needs']:
        job = workflow['jobs'][job_name]
        step_ids = [step['id'] for step in job['steps'] if 'id' in step]
        failed_id = failed_step if job_name == failed_job else ''
        outputs = {
            output_name: _evaluate_output(expression, _steps_json(step_ids, failed_id), python)
            for output_name, expression in job['outputs'].items()
        }
        needs[job_name] = {
            'result': 'failure' if failed_id else 'success',
            # GitHub drops a matrix leg's empty outputs instead of overwriting the others'.
            'outputs': {name: output for name, output in outputs.items() if output},
        }
    return needs


def _failing_steps(workflow: dict[Any, Any]) -> list[tuple[str, str, str | None, str]]:
    """Every step with an id, on each Python of its matrix: (job, step id, python, the name GitHub shows)."""
    cases = []
    for job_name in workflow['jobs']['notify']['needs']:
        job = workflow['jobs'][job_name]
        pythons = job.get('strategy', {}).get('matrix', {}).get('python-version', [''])
        cases.extend(
            (job_name, step['id'], python or None, step['name'].replace('${{ matrix.python-version }}', python))
            for step in job['steps'] if 'id' in step
            for python in pythons
        )
    return cases


@pytest.mark.parametrize('path', [WORKFLOW_PATH, CHAOS_PATH], ids=lambda path: path.name)
def test_message_names_the_step_that_failed(path: Path) -> None:
    """For every step of every job, on every Python: when it alone fails, the message names it as GitHub does."""
    workflow = _load(path)
    cases = _failing_steps(workflow)

    assert cases
    for job_name, step_id, python, shown_name in cases:
        needs = _needs_with_failed_step(workflow, job_name, step_id, python)
        message = notify_telegram.build_message('notifier', 'f' * COMMIT_LENGTH, needs)

        assert message.split('\n')[1:] == ['{0} failed'.format(shown_name)]


def test_step_names_are_their_ids(workflow: dict[Any, Any]) -> None:
    """The message names a step by its id, so its name in GitHub is the same (with the leg in a matrix)."""
    for job in workflow['jobs'].values():
        suffix = MATRIX_SUFFIX if 'strategy' in job else ''
        named = [(step['name'], step['id']) for step in job['steps'] if 'id' in step]
        for step_name, step_id in named:
            assert step_name == '{0}{1}'.format(step_id, suffix)


def test_issue_examples_are_step_names(workflow: dict[Any, Any]) -> None:
    """The checks the brief's readers look for: mypy, and the tests on each Python."""
    typecheck_ids = [step.get('id') for step in workflow['jobs']['typecheck']['steps']]
    test_names = [step.get('name') for step in workflow['jobs']['test']['steps']]

    assert 'mypy' in typecheck_ids
    assert 'tests (Python ${{ matrix.python-version }})' in test_names


def test_every_python_of_the_matrix_has_an_output(workflow: dict[Any, Any]) -> None:
    """One steps output per leg, so no leg's results overwrite another's."""
    test_job = workflow['jobs']['test']
    legs = [LEG_OUTPUT.fullmatch(expression) for expression in test_job['outputs'].values()]

    assert all(legs)
    assert [leg['python'] for leg in legs if leg] == test_job['strategy']['matrix']['python-version']
    assert list(test_job['outputs']) == [
        'python-{0}'.format(python.replace('.', '-')) for python in test_job['strategy']['matrix']['python-version']
    ]


def test_chaos_runs_nightly_and_on_demand(chaos_workflow: dict[Any, Any]) -> None:
    """`make chaos` on a schedule and by hand, never on a pull request or a push."""
    triggers = chaos_workflow.get('on', chaos_workflow.get(True))

    assert list(triggers) == ['schedule', 'workflow_dispatch']
    assert triggers['schedule'] == [{'cron': '30 2 * * *'}]


def test_chaos_report_is_an_artifact(chaos_workflow: dict[Any, Any]) -> None:
    """The chaos job runs `make chaos`, writes its report into the uploaded directory, and reports to Telegram."""
    chaos_job = chaos_workflow['jobs']['chaos']
    chaos_step = next(step for step in chaos_job['steps'] if step.get('id') == 'chaos')
    upload = next(step for step in chaos_job['steps'] if step.get('uses', '').startswith('actions/upload-artifact'))
    notify_job = chaos_workflow['jobs']['notify']

    assert 'make chaos' in chaos_step['run']
    assert chaos_step['shell'] == 'bash'
    assert chaos_step['env']['NOTIFIER_CHAOS_REPORT'].startswith(upload['with']['path'])
    assert upload['with']['name'] == 'chaos-report'
    assert notify_job['needs'] == ['chaos']
    assert notify_job['if'] == 'always()'
    assert notify_job['steps'][-1]['run'] == NOTIFY_COMMAND
