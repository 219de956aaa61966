"""The local directory: ``notifier users import``, lookups, keyset pages, and a mail enriched from it."""

from pathlib import Path

from flask import Flask

from notifier.cli.users import users_group
from notifier.extensions import db
from notifier.users import LocalUserDirectory
from tests.integration import queries
from tests.plugins.app import running_consumers, wait_for
from tests.plugins.smtp import RecordingHandler
from tests.users.user_events import notify_user

CSV = """id,email,name,locale,time_zone,phone,push_tokens,registered_at,segments
u1,anna@example.com,Анна,ru,Europe/Moscow,+79990000001,t1;t2,2026-01-01T10:00:00+00:00,subscribers;vip
u2,boris@example.com,Борис,,,,,,subscribers
u3,vera@example.com,Вера,en,,,,,
u4,gleb@example.com,,,,,,,subscribers
"""


def _import(flask_app: Flask, path: Path) -> tuple[int, str]:
    outcome = flask_app.test_cli_runner().invoke(users_group, ['import', str(path)])
    return outcome.exit_code, outcome.output


def test_import_a_csv_then_read_it_back(users_app: Flask, tmp_path: Path) -> None:
    source = tmp_path / 'users.csv'
    source.write_text(CSV, encoding='utf-8')

    assert _import(users_app, source) == (0, 'imported 4 user(s) from {0}\n'.format(source))
    assert _import(users_app, source)[0] == 0  # importing again replaces, never duplicates

    with users_app.app_context():
        users = LocalUserDirectory(db.session())
        anna = users.get('u1')
        many = users.get_many(['u2', 'u3', 'nobody'])
        first = users.page('subscribers', None, 2)
        second = users.page('subscribers', first.next_cursor, 2)
        everyone = users.page('all', None, 10)
    assert anna is not None
    assert (anna.name, anna.time_zone, anna.push_tokens) == ('Анна', 'Europe/Moscow', ('t1', 't2'))
    assert anna.phone == '+79990000001'
    assert sorted(many) == ['u2', 'u3']
    assert [user.id for user in first.users] == ['u1', 'u2']
    assert [user.id for user in second.users] == ['u4']
    assert second.next_cursor is None
    assert [user.id for user in everyone.users] == ['u1', 'u2', 'u3', 'u4']


def test_a_bad_line_imports_nothing_and_says_which(users_app: Flask, tmp_path: Path) -> None:
    source = tmp_path / 'users.jsonl'
    source.write_text('{"id": "u1", "email": "a@example.com"}\n{"id": "u2", "email": "not an address"}\n')

    exit_code, output = _import(users_app, source)

    assert exit_code == 1
    assert 'line 2' in output and 'email' in output and 'nothing was imported' in output
    with users_app.app_context():
        assert LocalUserDirectory(db.session()).get('u1') is None


def test_a_mail_to_a_local_user_is_enriched_from_the_table(
    smtp_users_app: Flask, smtp_server: RecordingHandler, tmp_path: Path,
) -> None:
    source = tmp_path / 'users.csv'
    source.write_text(CSV, encoding='utf-8')
    assert _import(smtp_users_app, source)[0] == 0
    with running_consumers(smtp_users_app):
        notification_id = notify_user(smtp_users_app, 'u2', show='Тьма')
        wait_for(lambda: queries.sent_delivery(smtp_users_app, notification_id), what='the mail to Boris')

    mails = smtp_server.to('boris@example.com')
    assert len(mails) == 1
    assert 'Привет Борис!' in str(mails[0].get_body(preferencelist=('html',)).get_content())
