"""CI's lint and typecheck jobs check what ``make lint`` checks, and fail when it would.

The workflow's steps call the Makefile's targets; these tests read which
targets the jobs call, which commands the targets run (``make -n``), and
run those commands on a small temporary copy with a planted fault: a
wemake-python-styleguide violation in ``tests/`` and an import that breaks
an import-linter contract. Each command must exit non-zero and name the
fault. The full lint of the repository is ``make lint``, not this.
"""

import re
import shlex
import shutil
import subprocess  # noqa: S404 - runs make and the linters, as CI does
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKFLOW_PATH = REPO_ROOT / '.github' / 'workflows' / 'ci.yml'
MAKEFILE_PATH = REPO_ROOT / 'Makefile'
VENV_BIN = Path(sys.executable).parent
COMMAND_TIMEOUT = 120
# A check runs after the install, also when an earlier check failed.
CHECK_CONDITION = "${{ !cancelled() && steps.install.outcome == 'success' }}"
LINT_JOBS = ('lint', 'typecheck')
INSTALL_TARGET = 'install'
STYLE_PATHS = ['notifier', 'plugins', 'tests', 'setup.py']
TYPED_PACKAGES = [
    'notifier',
    'plugins/email_smtp/notifier_email_smtp',
    'plugins/sms_stub/notifier_sms_stub',
    'plugins/push_stub/notifier_push_stub',
]
CLEAN_TEST = '''"""A test module as the project writes them."""


def test_addition() -> None:
    """Two and two."""
    assert 2 + 2 == 4
'''
# WPS110: `data` says nothing of what it holds (not among the per-file ignores of tests/).
WPS_VIOLATION = '''"""A test module with a wemake-python-styleguide violation."""


def test_addition() -> None:
    """Two and two."""
    data = 2 + 2
    assert data == 4
'''
# The domain knows no edges (setup.cfg): a model importing the HTTP API breaks that contract.
EDGE_IMPORT = '''"""A model that reaches up into the HTTP API."""

import notifier.api  # noqa: F401
'''


@pytest.fixture(scope='module')
def workflow() -> dict[Any, Any]:
    """The parsed ``ci.yml``."""
    with WORKFLOW_PATH.open(encoding='utf-8') as workflow_file:
        parsed: dict[Any, Any] = yaml.safe_load(workflow_file)
    return parsed


def _make_targets_run_by(job: dict[str, Any]) -> list[str]:
    """The Makefile targets a job's steps run (``make TARGET``), in order."""
    targets = []
    for step in job['steps']:
        command = shlex.split(step.get('run', ''))
        if command[:1] == ['make']:
            targets.extend(command[1:])
    return targets


def _prerequisites(target: str) -> list[str]:
    """The prerequisites of a Makefile rule, as written in the Makefile."""
    rule = re.search(
        r'^{0}:([^#\n]*)'.format(re.escape(target)),
        MAKEFILE_PATH.read_text(encoding='utf-8'),
        flags=re.MULTILINE,
    )
    assert rule is not None, 'no rule for {0} in the Makefile'.format(target)
    return rule.group(1).split()


def _recipe(target: str) -> list[str]:
    """The one command ``make TARGET`` runs once the venv is installed (``make -n``)."""
    completed = subprocess.run(  # noqa: S603 - fixed command
        ['make', '--no-print-directory', '-n', '-o', '.venv/.installed', target],  # noqa: S607 - make from PATH
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=True,
    )
    commands = completed.stdout.splitlines()
    assert len(commands) == 1, commands
    return shlex.split(commands[0])


def _run_in(directory: Path, command: list[str]) -> subprocess.CompletedProcess[str]:
    """Run one of the venv's linters in ``directory`` with the project's tree there on the path."""
    program = VENV_BIN / Path(command[0]).name
    return subprocess.run(  # noqa: S603 - the venv's own linters
        [str(program), *command[1:]],
        cwd=directory,
        env={'PATH': str(VENV_BIN), 'PYTHONPATH': str(directory), 'HOME': str(directory)},
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )


def _step_running(job: dict[str, Any], target: str) -> dict[str, Any]:
    steps = [step for step in job['steps'] if step.get('run') == 'make {0}'.format(target)]
    assert len(steps) == 1, 'no single step runs make {0}'.format(target)
    return steps[0]


def test_ci_runs_every_check_of_make_lint(workflow: dict[Any, Any]) -> None:
    """The lint and typecheck jobs together run each target `make lint` is made of."""
    run_in_ci = {
        target
        for job_name in LINT_JOBS
        for target in _make_targets_run_by(workflow['jobs'][job_name])
    }

    assert _prerequisites('lint') == ['lint-style', 'typecheck', 'lint-imports', 'lint-deploy']
    assert set(_prerequisites('lint')) <= run_in_ci


def test_lint_steps_fail_their_job(workflow: dict[Any, Any]) -> None:
    """Every check is a step of its own that fails the job, run even after another check failed."""
    jobs = workflow['jobs']
    for target in _prerequisites('lint'):
        job = next(job for job in jobs.values() if 'make {0}'.format(target) in (
            step.get('run') for step in job['steps']
        ))
        step = _step_running(job, target)

        assert 'continue-on-error' not in step
        assert step.get('if') in {None, CHECK_CONDITION}


def test_checks_read_the_paths_of_the_brief() -> None:
    """flake8 reads the code, the tests and setup.py; mypy notifier and the three plugins."""
    assert _recipe('lint-style') == ['.venv/bin/flake8', *STYLE_PATHS]
    assert _recipe('typecheck') == ['.venv/bin/mypy', *TYPED_PACKAGES]
    assert _recipe('lint-imports') == ['.venv/bin/lint-imports']


def test_html_report_is_an_artifact(workflow: dict[Any, Any]) -> None:
    """The lint job writes the HTML report of the same paths and uploads it, also when the lint failed."""
    lint_job = workflow['jobs']['lint']
    report_step = _step_running(lint_job, 'lint-report')
    upload = next(step for step in lint_job['steps'] if step.get('uses', '').startswith('actions/upload-artifact'))

    assert _recipe('lint-report') == [
        '.venv/bin/flake8', '--exit-zero', '--format=html', '--htmldir=lint-report', *STYLE_PATHS,
    ]
    assert report_step['if'] == CHECK_CONDITION
    assert upload['if'] == "${{ !cancelled() && steps.lint-report.outcome == 'success' }}"
    assert upload['with']['path'] == 'lint-report/'
    assert upload['with']['name'] == 'lint-report'


@pytest.fixture
def style_copy(tmp_path: Path) -> Path:
    """A directory with the project's setup.cfg and a tests/ package."""
    shutil.copy(REPO_ROOT / 'setup.cfg', tmp_path / 'setup.cfg')
    (tmp_path / 'tests').mkdir()
    (tmp_path / 'tests' / '__init__.py').write_text('"""Tests."""\n', encoding='utf-8')
    return tmp_path


def _style_command_on_tests() -> list[str]:
    """The lint-style command CI runs, narrowed to tests/ (the rest of the tree is not copied)."""
    command = _recipe('lint-style')
    assert 'tests' in command
    return [command[0], 'tests']


def test_style_check_passes_a_clean_test_module(style_copy: Path) -> None:
    """The control: the same command on a clean test module exits 0 (the fault below is what fails)."""
    (style_copy / 'tests' / 'test_injected.py').write_text(CLEAN_TEST, encoding='utf-8')

    completed = _run_in(style_copy, _style_command_on_tests())

    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_style_check_fails_on_a_violation_in_tests(style_copy: Path) -> None:
    """A WPS violation in tests/ fails lint-style, and so the lint job."""
    (style_copy / 'tests' / 'test_injected.py').write_text(WPS_VIOLATION, encoding='utf-8')

    completed = _run_in(style_copy, _style_command_on_tests())

    assert completed.returncode != 0
    assert 'tests/test_injected.py' in completed.stdout
    assert 'WPS110' in completed.stdout


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    """A directory with the project's setup.cfg and a copy of the notifier package."""
    shutil.copy(REPO_ROOT / 'setup.cfg', tmp_path / 'setup.cfg')
    shutil.copytree(REPO_ROOT / 'notifier', tmp_path / 'notifier', ignore=shutil.ignore_patterns('__pycache__'))
    return tmp_path


def test_import_contracts_pass_the_copy(package_copy: Path) -> None:
    """The control: the contracts hold in the copy as in the repository."""
    completed = _run_in(package_copy, [*_recipe('lint-imports'), '--no-cache'])

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert re.search(r'Contracts: [0-9]+ kept, 0 broken\.', completed.stdout)


def test_import_contracts_fail_on_a_broken_contract(package_copy: Path) -> None:
    """A model importing the HTTP API breaks a contract: lint-imports fails and names the import."""
    (package_copy / 'notifier' / 'models' / 'injected_edge.py').write_text(EDGE_IMPORT, encoding='utf-8')

    completed = _run_in(package_copy, [*_recipe('lint-imports'), '--no-cache'])

    assert completed.returncode != 0
    assert 'Models, templating and channels know nothing of Flask edges or the pipeline BROKEN' in completed.stdout
    assert 'notifier.models.injected_edge -> notifier.api' in completed.stdout
