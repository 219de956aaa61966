"""SMS and push reach the stub providers at the user's phone and devices; failures retry or park."""

from typing import Any

from flask import Flask

from tests.channels_links.conftest import PHONE, TOKENS
from tests.channels_links.stub_provider import StubProvider
from tests.integration import queries
from tests.plugins.app import running_consumers, wait_for


def event_for(user_id: str, channels: list[str], **event_fields: Any) -> dict[str, Any]:
    return {
        'meta': {'urgency': 'immediate', 'scale': 'individual', 'user_id': user_id, 'periodic': False},
        'type': 'show_subs',
        'channels': channels,
        'fields': {'show': 'Тьма', 'episode': 'S01E02', **event_fields},
    }


def only(found: Any) -> Any:
    assert len(found) == 1, found
    return found[0]


def post(app: Flask, body: dict[str, Any]) -> str:
    answer = queries.post_event(app.test_client(), body)
    assert answer.status_code == 202, answer.get_json()
    return str(answer.get_json()['id'])


def finished(app: Flask, notification_id: str, count: int) -> list[Any]:
    rows = queries.deliveries_of(app, notification_id)
    done = [row for row in rows if row.state in {'sent', 'failed', 'skipped'}]
    return rows if len(done) == count else []


def test_one_notification_reaches_the_phone_and_each_device(
    links_app: Flask, sms_provider: StubProvider, push_provider: StubProvider,
) -> None:
    with running_consumers(links_app):
        notification_id = post(links_app, event_for('42', ['sms', 'push']))
        rows = wait_for(lambda: finished(links_app, notification_id, 3), what='three deliveries')

    assert sorted((row.channel, row.recipient, row.state) for row in rows) == [
        ('push', TOKENS[0], 'sent'), ('push', TOKENS[1], 'sent'), ('sms', PHONE, 'sent'),
    ]
    sms = only(sms_provider.accepted())
    assert sms['to'] == PHONE
    assert sms['text'] == 'Вышла новая серия «Тьма»: S01E02.'
    assert sms['segments'] == 1
    pushes = sorted(push_provider.accepted(), key=lambda push: push['token'])
    assert [push['token'] for push in pushes] == list(TOKENS)
    assert pushes[0]['title'] == 'Новая серия: Тьма'
    assert pushes[0]['body'] == 'Вышла новая серия «Тьма»: S01E02.'
    assert pushes[0]['data'] == {'type': 'show_subs', 'show': 'Тьма', 'link': ''}


def test_a_user_without_a_phone_gets_a_skipped_sms_and_still_gets_the_mail(
    links_app: Flask, sms_provider: StubProvider,
) -> None:
    with running_consumers(links_app):
        notification_id = post(links_app, event_for('43', ['sms', 'email']))
        rows = wait_for(lambda: finished(links_app, notification_id, 2), what='two deliveries')

    by_channel = {row.channel: row for row in rows}
    assert by_channel['sms'].state == 'skipped'
    assert by_channel['sms'].last_error == 'user 43 has no phone number'
    assert by_channel['email'].state == 'sent'
    assert sms_provider.received == []


def test_a_temporary_provider_failure_is_retried_and_sent_once(
    links_app: Flask, sms_provider: StubProvider,
) -> None:
    sms_provider.fail_next(503)
    sms_provider.fail_next(429)

    with running_consumers(links_app):
        notification_id = post(links_app, event_for('42', ['sms']))
        row = only(wait_for(lambda: finished(links_app, notification_id, 1), what='the SMS delivery'))

    assert row.state == 'sent'
    assert row.attempts == 3
    assert [request['_status'] for request in sms_provider.received] == [503, 429, 200]
    assert set(sms_provider.idempotency_keys) == {row.id}


def test_a_permanent_provider_failure_parks_at_once_with_the_reason(
    links_app: Flask, push_provider: StubProvider,
) -> None:
    push_provider.fail_next(400, times=2)

    with running_consumers(links_app):
        notification_id = post(links_app, event_for('42', ['push']))
        rows = wait_for(lambda: finished(links_app, notification_id, 2), what='both push deliveries')
        wait_for(lambda: queries.parked_count(links_app) >= 2, what='the parked messages')
    parked = queries.parked_messages(links_app)

    assert {row.state for row in rows} == {'failed'}
    assert all(row.attempts == 1 for row in rows)
    assert all(row.last_error.startswith('provider answered 400') for row in rows)
    reasons = [headers['x-notifier-park-reason'] for headers, body in parked if notification_id.encode() in body]
    assert len(reasons) == 2
    assert all(reason.startswith('provider answered 400') for reason in reasons)


def test_an_sms_longer_than_its_segments_is_refused_with_the_count(
    links_app: Flask, sms_provider: StubProvider, monkeypatch: Any,
) -> None:
    monkeypatch.setenv('NOTIFIER_SMS_MAX_SEGMENTS', '1')

    with running_consumers(links_app):
        notification_id = post(links_app, event_for('42', ['sms'], episode='серия ' * 12))
        row = only(wait_for(lambda: finished(links_app, notification_id, 1), what='the SMS delivery'))

    assert row.state == 'failed'
    assert row.last_error.startswith('the SMS text needs 2 segments')
    assert sms_provider.received == []


def test_the_fail_mode_setting_fails_temporarily_then_sends(
    links_app: Flask, tmp_path: Any, monkeypatch: Any,
) -> None:
    monkeypatch.setenv('NOTIFIER_SMS_URL', 'file://{0}'.format(tmp_path / 'sms'))
    monkeypatch.setenv('NOTIFIER_SMS_FAIL', 'temporary')
    monkeypatch.setenv('NOTIFIER_SMS_FAIL_COUNT', '1')

    with running_consumers(links_app):
        notification_id = post(links_app, event_for('42', ['sms']))
        row = only(wait_for(lambda: finished(links_app, notification_id, 1), what='the SMS delivery'))

    assert row.state == 'sent'
    assert row.attempts == 2
    assert [path.name for path in (tmp_path / 'sms').iterdir()] == ['{0}.json'.format(row.id)]
