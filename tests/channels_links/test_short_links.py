"""Short links: made at render time, redirect and count, expire, and refuse what is not allowed."""

import datetime as dt
import re
import string
from typing import Any

import pytest
from flask import Flask

from notifier.extensions import db
from notifier.links.codes import CODE_LENGTH, LinkRefusedError, allowed_target, new_code, parse_hosts
from notifier.links.store import shorten
from notifier.models import Delivery
from notifier.models.base import utcnow
from tests.channels_links.conftest import PHONE
from tests.channels_links.stub_provider import StubProvider
from tests.channels_links.test_sms_push_delivery import event_for, finished, only, post
from tests.plugins.app import AUTH, running_consumers, wait_for

HOSTS = parse_hosts('cinema.example,.cinema.example')
SHORT_URL = re.compile(r'http://127\.0\.0\.1:8000/s/([A-Za-z0-9_-]+)')
TARGET = 'https://cinema.example/shows/tma?episode=2'


def sms_with_link(app: Flask, provider: StubProvider, link: str) -> tuple[str, Any]:
    with running_consumers(app):
        notification_id = post(app, event_for('42', ['sms'], link=link))
        row = only(wait_for(lambda: finished(app, notification_id, 1), what='the SMS delivery'))
    return notification_id, row


def clicks(app: Flask, notification_id: str) -> Any:
    answer = app.test_client().get('/api/v1/notifications/{0}/clicks'.format(notification_id), headers=AUTH)
    assert answer.status_code == 200
    return answer.get_json()


def test_a_link_in_an_sms_redirects_to_its_target_and_each_click_counts_once(
    links_app: Flask, sms_provider: StubProvider,
) -> None:
    notification_id, row = sms_with_link(links_app, sms_provider, TARGET)

    assert row.state == 'sent'
    sms = only(sms_provider.accepted())
    code = SHORT_URL.search(sms['text']).group(1)
    assert clicks(links_app, notification_id) == {
        'notification_id': notification_id, 'clicks': 0, 'targets': [
            {'target': TARGET, 'clicks': 0, 'clicked_deliveries': 0},
        ],
    }
    client = links_app.test_client()
    first = client.get('/s/{0}'.format(code))
    second = client.get('/s/{0}'.format(code))
    scanner = client.head('/s/{0}'.format(code))

    assert (first.status_code, first.headers['Location']) == (302, TARGET)
    assert (second.status_code, second.headers['Location']) == (302, TARGET)
    assert scanner.status_code == 302
    assert clicks(links_app, notification_id)['targets'] == [
        {'target': TARGET, 'clicks': 2, 'clicked_deliveries': 1},
    ]
    assert clicks(links_app, notification_id)['clicks'] == 2


def test_a_delivery_rendered_again_keeps_its_code(links_app: Flask) -> None:
    notification_id = post(links_app, event_for('42', ['sms']))  # stored; its delivery made by hand below
    with links_app.app_context():
        db.session.add(Delivery(id='d-1', notification_id=notification_id, recipient=PHONE, channel='sms'))
        db.session.commit()
        first = shorten(db.session(), TARGET, 'd-1', notification_id, None).code
        again = shorten(db.session(), TARGET, 'd-1', notification_id, None).code
        other = shorten(db.session(), '{0}&x=1'.format(TARGET), 'd-1', notification_id, None).code

    assert first == again
    assert other != first


def test_an_expired_or_unknown_code_is_a_404_page(links_app: Flask) -> None:
    notification_id = post(links_app, event_for('42', ['sms']))
    with links_app.app_context():
        db.session.add(Delivery(id='d-2', notification_id=notification_id, recipient=PHONE, channel='sms'))
        db.session.commit()
        expired = shorten(db.session(), TARGET, 'd-2', notification_id, utcnow() - dt.timedelta(seconds=1)).code
    client = links_app.test_client()

    codes = (expired, new_code(), 'short', 'a' * 5000, '%00', '{0}%00'.format(expired[:15]))
    for code in codes:
        answer = client.get('/s/{0}'.format(code))
        assert answer.status_code == 404, code
        assert answer.mimetype == 'text/html'
        assert 'Ссылка не найдена' in answer.get_data(as_text=True)
    assert clicks(links_app, notification_id)['clicks'] == 0


@pytest.mark.parametrize(('link', 'reason'), [
    ('https://evil.example/phish', "the host 'evil.example' is not in NOTIFIER_LINK_HOSTS"),
    ('javascript:alert(1)', "only http and https links can be shortened, not 'javascript:'"),
])
def test_a_refused_link_fails_the_delivery_at_render_time(
    links_app: Flask, sms_provider: StubProvider, link: str, reason: str,
) -> None:
    _notification_id, row = sms_with_link(links_app, sms_provider, link)

    assert row.state == 'failed'
    assert row.last_error.startswith('link refused: {0}'.format(reason))
    assert sms_provider.received == []


@pytest.mark.parametrize('link', [
    'javascript:alert(1)',
    'JavaScript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'vbscript:msgbox',
    'ftp://cinema.example/file',
    '//evil.example/x',
    'https://evil.example/',
    'https://cinema.example.evil.example/',
    'https://evilcinema.example/',
    'https://cinema.example@evil.example/',
    r'https://evil.example\@cinema.example/',
    'https://cinema.example/ x',
    'https://cinema.example/\x00',
    'https://cinema.example/{0}'.format('a' * 2000),
    'not a url',
])
def test_only_http_links_to_allowed_hosts_are_accepted(link: str) -> None:
    with pytest.raises(LinkRefusedError):
        allowed_target(link, HOSTS)


@pytest.mark.parametrize('link', [
    'https://cinema.example/',
    'http://cinema.example/shows?id=1#top',
    'https://www.cinema.example/a',
    'HTTPS://CINEMA.EXAMPLE/',
    'https://cinema.example:8443/x',
])
def test_links_to_the_cinema_are_accepted(link: str) -> None:
    assert allowed_target(link, HOSTS) == link


def test_codes_are_16_url_safe_characters_and_do_not_repeat() -> None:
    codes = [new_code() for _ in range(10000)]

    assert len(set(codes)) == len(codes)
    assert {len(code) for code in codes} == {CODE_LENGTH}
    alphabet = set('{0}{1}-_'.format(string.ascii_letters, string.digits))
    assert set(''.join(codes)) == alphabet  # all 64 symbols in use: 6 bits per character, 96 bits per code
