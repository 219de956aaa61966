"""The GitHub Actions workflow: when it runs and what it reports.

The schema and expressions are checked by ``scripts/lint-deploy.sh``
(check-jsonschema, actionlint); these tests pin the project's choices.
"""

from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKFLOW_PATH = REPO_ROOT / '.github' / 'workflows' / 'ci.yml'
NOTIFY_COMMAND = 'python .github/scripts/notify_telegram.py'


@pytest.fixture(scope='module')
def workflow() -> dict[Any, Any]:
    """The parsed ``ci.yml``."""
    with WORKFLOW_PATH.open(encoding='utf-8') as workflow_file:
        parsed: dict[Any, Any] = yaml.safe_load(workflow_file)
    return parsed


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

    assert test_steps[1]['with']['python-version'] == '${{ matrix.python-version }}'
    assert test_steps[-1]['run'] == 'make test PYTHON=python'
