"""Three ``notifier run schedule`` processes, one killed and restarted: each occurrence mails once."""

import datetime as dt
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from flask import Flask
from sqlalchemy import func, select

from notifier.app import create_app
from notifier.extensions import db
from notifier.models import Delivery, Occurrence, OutboxMessage, Schedule
from notifier.services.schedules import create_schedule
from tests.plugins.app import make_settings, wait_for
from tests.plugins.services import RABBITMQCTL, own_database, own_vhost, require_service
from tests.plugins.smtp import RecordingHandler

#: The issue's bar runs a minute (NOTIFIER_SCHEDULER_BAR_SECONDS=60); make test runs 12 seconds.
RUN_SECONDS = int(os.environ.get('NOTIFIER_SCHEDULER_BAR_SECONDS', '12'))
KILL_AT = RUN_SECONDS // 3
RESTART_AT = RUN_SECONDS * 2 // 3


@pytest.fixture
def service_env(tmp_path: Path, smtp_server: RecordingHandler) -> Iterator[dict[str, str]]:
    require_service('PostgreSQL', '127.0.0.1', 5432)
    with own_database() as database_url, own_vhost() as broker_url:
        env = {
            **os.environ,
            'NOTIFIER_DATABASE_URL': database_url,
            'NOTIFIER_BROKER_URL': broker_url,
            'NOTIFIER_INSTANCE_DIR': str(tmp_path),
            'NOTIFIER_EMAIL_URL': 'smtp://127.0.0.1:{0}'.format(smtp_server.port),
            'NOTIFIER_SCHEDULER_INTERVAL': '0.2',
            'NOTIFIER_RETRY_DELAYS': '1s,2s',
            'NOTIFIER_SENDING_LEASE': '2',
        }
        subprocess.run(
            [sys.executable, '-m', 'notifier', 'db', 'upgrade'], env=env, check=True, capture_output=True, timeout=120,
        )
        yield env


def _start(env: dict[str, str], *mode: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, '-m', 'notifier', 'run', *mode], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _ended(app: Flask, schedule_id: str) -> bool:
    with app.app_context():
        schedule = db.session.get(Schedule, schedule_id)
        ended = schedule is not None and schedule.next_fire_at is None
        db.session.remove()
        return ended


def _fired(app: Flask, schedule_id: str) -> list[dt.datetime]:
    with app.app_context():
        fired = db.session.scalars(
            select(Occurrence.fire_at).where(Occurrence.schedule_id == schedule_id, Occurrence.state == 'fired'),
        ).all()
        db.session.remove()
        return list(fired)


def _messages_anywhere(broker_url: str) -> int:
    """Ready and unacknowledged messages in every queue of the vhost."""
    vhost = unquote(urlsplit(broker_url).path[1:])
    listed = subprocess.run(
        [*RABBITMQCTL, 'list_queues', '-p', vhost, '--formatter', 'json', 'name', 'messages'],
        check=True, capture_output=True, text=True, timeout=60,
    )
    return sum(int(queue['messages']) for queue in json.loads(listed.stdout))


def _settled(app: Flask, broker_url: str) -> bool:
    with app.app_context():
        unsent = db.session.scalar(select(func.count()).select_from(Delivery).where(Delivery.state != 'sent'))
        unpublished = db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.published_at.is_(None)),
        )
        db.session.remove()
    return unsent == 0 and unpublished == 0 and _messages_anywhere(broker_url) == 0


def test_three_schedulers_one_killed_each_occurrence_mails_once(
    service_env: dict[str, str], smtp_server: RecordingHandler,
) -> None:
    app = create_app(make_settings(
        service_env['NOTIFIER_DATABASE_URL'],
        service_env['NOTIFIER_BROKER_URL'],
        Path(service_env['NOTIFIER_INSTANCE_DIR']),
    ))
    # The processes start after this; on a busy machine they may be up only after the first fire times.
    # ``fire_all`` fires those late instead of collapsing them (``fire_once``), so the fire times below
    # do not depend on how fast three Python processes start: each must still fire exactly once.
    start_at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(seconds=3)
    with app.app_context():
        schedule_id = create_schedule(db.session(), {
            'name': 'every-second', 'interval_seconds': 1, 'cron': None, 'timezone': 'UTC',
            'notification_type': 'info', 'template': None, 'locale': None, 'channels': ['email'],
            'audience': {'kind': 'user', 'email': 'tick@example.com'},
            'schedule_fields': {'title': 'tick', 'text': 'tock'}, 'misfire_policy': 'fire_all',
            'max_lateness_seconds': None, 'start_at': start_at, 'end_at': start_at + dt.timedelta(seconds=RUN_SECONDS),
            'enabled': True,
        }, start_at - dt.timedelta(seconds=1)).id

    with ExitStack() as running:
        consumer = _start(service_env, 'consume')
        running.callback(_stop, consumer)
        schedulers = [_start(service_env, 'schedule') for _ in range(3)]
        for scheduler in schedulers:
            running.callback(_stop, scheduler)
        wait_for(  # the schedule is firing, each of the three schedulers can have taken a turn
            lambda: len(_fired(app, schedule_id)) >= KILL_AT, timeout=RUN_SECONDS + 30, what='the first fires',
        )
        schedulers[0].kill()
        wait_for(
            lambda: len(_fired(app, schedule_id)) >= RESTART_AT, timeout=RUN_SECONDS + 30,
            what='fires by the two schedulers left',
        )
        restarted = _start(service_env, 'schedule')
        running.callback(_stop, restarted)
        wait_for(lambda: _ended(app, schedule_id), timeout=RUN_SECONDS + 30, what='the schedule to end')
        fired = _fired(app, schedule_id)
        wait_for(lambda: len(smtp_server.to('tick@example.com')) >= len(fired), timeout=30, what='every mail')
        # Nothing more can arrive once every mail's delivery is sent and no message is left anywhere:
        # a copy redelivered after that finds its delivery sent and sends nothing.
        wait_for(lambda: _settled(app, service_env['NOTIFIER_BROKER_URL']), timeout=30, what='the pipeline to settle')

    mails = smtp_server.to('tick@example.com')
    assert sorted(fired) == [start_at + dt.timedelta(seconds=second) for second in range(RUN_SECONDS + 1)]
    assert len(mails) == len(fired)
    assert len({mail['Message-ID'] for mail in mails}) == len(mails)
