"""The bar: a received mail's List-Unsubscribe URL, POSTed, turns its category off for that recipient;
the next notification of that category is skipped as opted out, a transactional one still arrives.
"""

import re
from email import message_from_bytes, policy
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import select

from notifier.extensions import db
from notifier.models import Preference
from notifier.pipeline.users_setup import links_from_settings
from notifier.settings import settings_of
from tests.integration import queries
from tests.plugins.app import running_consumers, wait_for
from tests.plugins.smtp import RecordingHandler

ADDRESS = 'masha@example.com'
ONE_CLICK = {'List-Unsubscribe': 'One-Click'}


def _info_event(title: str) -> dict[str, Any]:
    return {'meta': {'urgency': 'immediate', 'email': ADDRESS}, 'type': 'info', 'fields': {'title': title, 'text': 't'}}


def _unsubscribe_url(mail: Any) -> str:
    raw_headers = dict(mail.raw_items())
    assert raw_headers['List-Unsubscribe'].startswith('<http')  # as sent: not an RFC 2047 encoded word
    # Re-parse the raw bytes with the strict policy: the header must survive a real parser unfolded and unencoded.
    strict = message_from_bytes(mail.as_bytes(), policy=policy.strict)
    assert strict['List-Unsubscribe-Post'] == 'List-Unsubscribe=One-Click'
    found = re.fullmatch(r'<(https?://[^<>\s]+)>', str(strict['List-Unsubscribe']))
    assert found is not None, strict['List-Unsubscribe']
    return found.group(1)


def _switches(flask_app: Flask) -> list[tuple[str, str, str, bool]]:
    with flask_app.app_context():
        rows = db.session.scalars(select(Preference)).all()
        return [(row.subject, row.category, row.channel, row.enabled) for row in rows]


def test_one_click_unsubscribe_from_a_received_mail(smtp_users_app: Flask, smtp_server: RecordingHandler) -> None:
    client = smtp_users_app.test_client()
    with running_consumers(smtp_users_app):
        first = queries.post_event(client, _info_event('Премьера'), key='info-1').json
        wait_for(lambda: queries.sent_delivery(smtp_users_app, first['id']), what='the first info mail')
        mail = smtp_server.to(ADDRESS)[0]
        url = _unsubscribe_url(mail)
        assert url in str(mail.get_body(preferencelist=('html',)).get_content())
        assert url in str(mail.get_body(preferencelist=('plain',)).get_content())
        path = urlsplit(url).path

        page = client.get(path)
        assert page.status_code == 200
        assert '<form method="post">' in page.get_data(as_text=True)
        assert page.headers['Cache-Control'] == 'no-store'
        assert _switches(smtp_users_app) == []  # following the link (a mail scanner) changes nothing

        done = client.post(path, data=ONE_CLICK)  # what a mail client sends (RFC 8058)
        assert done.status_code == 200
        assert client.post(path, data=ONE_CLICK).status_code == 200  # twice is harmless
        assert _switches(smtp_users_app) == [('email:{0}'.format(ADDRESS), 'marketing', '*', False)]

        second = queries.post_event(client, _info_event('Вторая премьера'), key='info-2').json
        skipped = wait_for(lambda: queries.final_delivery(smtp_users_app, second['id']), what='the second info')
        welcome = queries.post_event(client, queries.welcome_to(ADDRESS), key='welcome-1').json
        wait_for(lambda: queries.sent_delivery(smtp_users_app, welcome['id']), what='the welcome mail')

    assert (skipped.state, skipped.last_error) == ('skipped', 'opted out')
    received = smtp_server.to(ADDRESS)
    assert [received_mail['Subject'] for received_mail in received] == ['Премьера', 'Добро пожаловать!']
    assert received[1]['List-Unsubscribe'] is None  # transactional mail has no unsubscribe link
    assert 'Отписаться' not in str(received[1].get_body(preferencelist=('html',)).get_content())


def test_forged_tokens_are_rejected_and_change_nothing(users_app: Flask) -> None:
    client = users_app.test_client()
    links = links_from_settings(settings_of(users_app))
    token = links.url('user:42', 'marketing').rsplit('/', 1)[1]
    payload, mac = token.split('.')
    swapped = 'BB' if mac.endswith('AA') else 'AA'
    other_user = links.url('user:43', 'marketing').rsplit('/', 1)[1]
    forged = [
        '{0}.{1}'.format(other_user.split('.')[0], mac),
        '{0}.{1}'.format(payload, mac[:-2] + swapped),
        payload,
        'not-a-token',
    ]

    for bad in forged:
        assert client.get('/unsubscribe/{0}'.format(bad)).status_code == 400
        assert client.post('/unsubscribe/{0}'.format(bad), data=ONE_CLICK).status_code == 400

    assert _switches(users_app) == []
    assert client.post('/unsubscribe/{0}'.format(token), data=ONE_CLICK).status_code == 200
    assert _switches(users_app) == [('user:42', 'marketing', '*', False)]
