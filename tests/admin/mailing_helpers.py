"""Helpers of the mailing page tests: an audience in the user directory, a stored template, drafts and launches."""

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from notifier.extensions import db
from notifier.models import OutboxMessage, StoredTemplate, User, UserSegment
from notifier.preferences.subjects import user_subject
from notifier.preferences.unsubscribe import unsubscribe
from tests.admin.conftest import post_form

SEGMENT = 'vip'
#: The segment's members who get the mail.
READERS = ('u1', 'u2', 'u3')
#: A member of the segment who opted out of marketing mail.
OPTED_OUT = 'u4'
#: A member of the segment the directory knows no address of.
NO_ADDRESS = 'u5'
#: Not in the segment.
OUTSIDER = 'u9'
PROMO_SOURCE = (
    '{% block subject %}Премьера для {{ name }}{% endblock %}\n'
    '{% block html %}<h1 id="greeting">{{ name }}, {{ title }}</h1><p>{{ text }}</p>{% endblock %}'
)
DRAFT_FORM: dict[str, Any] = {
    'notification_type': 'info',
    'template': 'promo',
    'locale': 'ru',
    'channels': ['email'],
    'template_fields': '{"title": "новый сезон", "text": "Уже на сайте"}',
    'audience': 'segment',
    'segment': SEGMENT,
    'timing': 'now',
    'timezone': 'Europe/Moscow',
}
_VERSION = re.compile(r'name="confirmed_version" value="([^"]+)"')
_DRAFT_LOCATION = re.compile(r'/admin/mailings/([0-9a-f-]{36})/dry-run/$')


def address_of(user_id: str) -> str:
    """The email address of a test user."""
    return '{0}@example.com'.format(user_id)


def fill_directory(flask_app: Flask, with_no_address: bool = True) -> None:
    """The segment (three readers, one who opted out, one without an address), an outsider, and the template."""
    members = [*READERS, OPTED_OUT, *((NO_ADDRESS,) if with_no_address else ())]
    with flask_app.app_context():
        for user_id in (*members, OUTSIDER):
            email = None if user_id == NO_ADDRESS else address_of(user_id)
            db.session.add(User(id=user_id, email=email, name='Зритель {0}'.format(user_id)))
        db.session.flush()
        db.session.add_all([UserSegment(segment=SEGMENT, user_id=user_id) for user_id in members])
        db.session.add(StoredTemplate(channel='email', name='promo', locale='ru', version=1, source=PROMO_SOURCE))
        db.session.commit()
        unsubscribe(db.session(), user_subject(OPTED_OUT), 'marketing')


def save_draft(client: FlaskClient, **changes: Any) -> str:
    """Post the new-mailing form; returns the draft's id."""
    saved = post_form(client, '/admin/mailings/new/', '/admin/mailings/new/', {**DRAFT_FORM, **changes})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    found = _DRAFT_LOCATION.search(saved.headers['Location'])
    assert found, saved.headers['Location']
    return found.group(1)


def confirm_page(client: FlaskClient, mailing_id: str) -> TestResponse:
    """The launch confirmation page."""
    return client.get('/admin/mailings/{0}/launch/'.format(mailing_id))


def confirmed_version(client: FlaskClient, mailing_id: str) -> str:
    """The version of the draft its confirmation page shows."""
    found = _VERSION.search(confirm_page(client, mailing_id).get_data(as_text=True))
    assert found, 'the confirmation page has no launch form'
    return found.group(1)


def launch(client: FlaskClient, mailing_id: str, version: str) -> TestResponse:
    """Press "Yes, launch it" on a confirmation page (maybe one left open in another tab)."""
    url = '/admin/mailings/{0}/launch/'.format(mailing_id)
    return post_form(client, '/admin/mailings/', url, {'confirm': 'launch', 'confirmed_version': version})


def announced(flask_app: Flask, mailing_id: str) -> int:
    """How many outbox rows announce the mailing's notification to the router."""
    with flask_app.app_context():
        announcing = OutboxMessage.message_id == 'route:{0}'.format(mailing_id)
        counted = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(announcing))
        return int(counted or 0)
