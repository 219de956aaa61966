"""The Dockerfile and docker-compose.yml run the commands the CLI has.

No Docker engine runs here: ``scripts/lint-deploy.sh`` lints both files
(hadolint, the Compose schema); these tests pin the stack's shape and
check that every command in them is one the ``notifier`` CLI accepts.
"""

import json
import subprocess  # noqa: S404 - runs the project's own console script
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.plugins.components import missing_component

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_PATH = REPO_ROOT / 'docker-compose.yml'
DOCKERFILE_PATH = REPO_ROOT / 'Dockerfile'
STAGES = ('router', 'generator', 'worker', 'sender')
CLI_TIMEOUT = 60


def _compose() -> dict[str, Any]:
    with COMPOSE_PATH.open(encoding='utf-8') as compose_file:
        parsed: dict[str, Any] = yaml.safe_load(compose_file)
    return parsed


def _services() -> dict[str, Any]:
    services: dict[str, Any] = _compose()['services']
    return services


def _dockerfile_instruction(keyword: str) -> list[str]:
    """The JSON (exec) form of the last ``keyword`` line of the Dockerfile."""
    prefix = '{0} '.format(keyword)
    lines = DOCKERFILE_PATH.read_text(encoding='utf-8').splitlines()
    instruction = [line for line in lines if line.startswith(prefix)][-1]
    exec_form: list[str] = json.loads(instruction[len(prefix):])
    return exec_form


def _notifier_commands() -> list[list[str]]:
    """Every command the image is started with, by compose or by default."""
    commands = [
        service['command']
        for service in _services().values()
        if service.get('image') == 'notifier:local'
    ]
    return [_dockerfile_instruction('CMD'), *commands]


def test_image_runs_notifier_api_by_default() -> None:
    """`docker run` of the image starts the API under gunicorn."""
    assert _dockerfile_instruction('ENTRYPOINT') == ['notifier']
    assert _dockerfile_instruction('CMD') == ['run', 'api', '--workers', '4']


def test_each_stage_has_its_own_service() -> None:
    """Every consumer stage scales on its own (`--scale sender=4`)."""
    services = _services()

    for stage in STAGES:
        assert services[stage]['command'] == ['run', 'consume', '--only', stage]


def test_replicas() -> None:
    """Two senders and two schedulers by default."""
    services = _services()

    assert services['sender']['deploy']['replicas'] == 2
    assert services['schedule']['deploy']['replicas'] == 2
    assert services['schedule']['command'] == ['run', 'schedule']


def test_processes_wait_for_migrations() -> None:
    """No process starts before the schema is up to date."""
    services = _services()

    assert services['migrate']['command'] == ['db', 'upgrade']
    for name in ('api', 'schedule', *STAGES):
        condition = services[name]['depends_on']['migrate']['condition']
        assert condition == 'service_completed_successfully'


@pytest.mark.parametrize('command', _notifier_commands(), ids=' '.join)
def test_cli_accepts_command(command: list[str]) -> None:
    """The CLI knows each command and option the deployment uses."""
    cli_script = Path(sys.executable).with_name('notifier')
    if not cli_script.exists():
        missing_component('the notifier console script is not installed in this venv (make install)')

    completed = subprocess.run(  # noqa: S603 - the project's own CLI
        [str(cli_script), *command, '--help'],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr


def test_cluster_profile_has_three_clustered_nodes_and_more_consumers() -> None:
    """``--profile cluster``: two nodes that join ``rabbitmq`` with its cookie, and scaled consumers."""
    compose = _compose()
    services = compose['services']
    peers = [name for name, service in services.items() if 'cluster' in service.get('profiles', [])]

    assert set(peers) == {'rabbitmq-2', 'rabbitmq-3', 'consumer'}
    cookie = services['rabbitmq']['environment']['RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS']
    for peer in ('rabbitmq-2', 'rabbitmq-3'):
        assert services[peer]['environment']['RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS'] == cookie
        assert services[peer]['hostname'] == peer
        assert services[peer]['depends_on']['rabbitmq']['condition'] == 'service_healthy'
    assert 'nodes.1 = rabbit@rabbitmq\n' in compose['configs']['rabbitmq-join']['content']
    assert services['consumer']['command'] == ['run', 'consume']
    assert services['consumer']['deploy']['replicas'] == 4
    for name in ('api', 'schedule', 'consumer', *STAGES):  # queues declared once the three nodes run
        for peer in ('rabbitmq-2', 'rabbitmq-3'):
            assert services[name]['depends_on'][peer] == {'condition': 'service_healthy', 'required': False}
