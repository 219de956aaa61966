"""The CLI as an operator meets it: one readable line for every startup problem."""

import os
import subprocess
import sys
from pathlib import Path

import pytest


def notifier(
    *arguments: str, env: dict[str, str] | None = None, cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, '-m', 'notifier', *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


def test_plugins_lists_the_email_plugin() -> None:
    listed = notifier('plugins')

    assert listed.returncode == 0
    assert listed.stdout.split()[:3] == ['email', 'notifier-email-smtp', '0.1.0']


@pytest.mark.parametrize(('setting', 'bad_value', 'expected'), [
    ('NOTIFIER_API_PORT', 'eighty', 'NOTIFIER_API_PORT'),
    ('NOTIFIER_DATABASE_URL', 'mysql://x', 'only sqlite:/// and postgresql+psycopg:// URLs'),
])
def test_bad_settings_are_one_line(tmp_path: Path, setting: str, bad_value: str, expected: str) -> None:
    started = notifier('run', 'consume', env={setting: bad_value}, cwd=tmp_path)

    assert started.returncode == 1
    assert 'Traceback' not in started.stderr
    assert expected in started.stderr
    assert started.stderr.count('\n') == 1


def test_unmigrated_database_says_how_to_migrate(tmp_path: Path) -> None:
    started = notifier('run', 'schedule', env={'NOTIFIER_INSTANCE_DIR': str(tmp_path)}, cwd=tmp_path)

    assert started.returncode == 1
    assert 'run `notifier db upgrade`' in started.stderr
    assert 'Traceback' not in started.stderr


def test_unreachable_broker_is_one_line_with_the_fix(tmp_path: Path) -> None:
    env = {
        'NOTIFIER_INSTANCE_DIR': str(tmp_path),
        'NOTIFIER_BROKER_URL': 'amqp://guest:secret@127.0.0.1:1/%2F',
    }
    assert notifier('db', 'upgrade', env=env, cwd=tmp_path).returncode == 0

    started = notifier('run', 'consume', env=env, cwd=tmp_path)

    assert started.returncode == 1
    assert started.stderr.strip() == (
        'Error: cannot reach RabbitMQ at amqp://guest:***@127.0.0.1:1/%2F: connection refused — '
        'start it with `rabbitmq-server -detached` or set NOTIFIER_BROKER_URL'
    )


def test_unreachable_cluster_names_every_node_with_every_password_masked(tmp_path: Path) -> None:
    env = {
        'NOTIFIER_INSTANCE_DIR': str(tmp_path),
        'NOTIFIER_BROKER_URL': 'amqp://guest:first@127.0.0.1:1/%2F,amqp://guest:second@127.0.0.1:2/%2F',
    }
    assert notifier('db', 'upgrade', env=env, cwd=tmp_path).returncode == 0

    started = notifier('run', 'consume', env=env, cwd=tmp_path)

    assert started.returncode == 1
    assert started.stderr.strip() == (
        'Error: cannot reach RabbitMQ at amqp://guest:***@127.0.0.1:1/%2F,amqp://guest:***@127.0.0.1:2/%2F: '
        'connection refused — start it with `rabbitmq-server -detached` or set NOTIFIER_BROKER_URL'
    )


def test_unknown_stage_is_refused(tmp_path: Path) -> None:
    started = notifier('run', 'consume', '--only', 'router,mailer', cwd=tmp_path)

    assert started.returncode == 2
    assert 'unknown stage mailer' in started.stderr
