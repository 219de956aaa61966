"""The auth service's registration call, exactly as docs/auth-service.md shows it, on either directory."""

from typing import Any

from flask import Flask

from notifier.extensions import db
from notifier.models.user import User
from tests.integration import queries
from tests.plugins.app import running_consumers, wait_for
from tests.plugins.smtp import RecordingHandler
from tests.users.reference_server import ReferenceDirectory

VASYA = 'vasya@example.com'
#: The documented body: no ``meta``, the recipient in ``fields``.
REGISTERED = {'type': 'user_registered', 'fields': {'user_id': '42', 'email': VASYA, 'name': 'Вася'}}
KEY = 'user-registered:42'
#: The brief's bulk event: every user who did not opt out.
ANNOUNCEMENT = {
    'meta': {'urgency': 'immidiate', 'scale': 'bulk', 'periodic': False},
    'type': 'info',
    'fields': {'title': 'Премьера', 'text': 'Новый сезон'},
}


def _html(mail: Any) -> str:
    return str(mail.get_body(preferencelist=('html',)).get_content())


def _register_twice(flask_app: Flask) -> str:
    """The call and the auth service's retry of it; the notification id, once both are sent."""
    client = flask_app.test_client()
    with running_consumers(flask_app):
        first = queries.post_event(client, REGISTERED, key=KEY)
        retry = queries.post_event(client, REGISTERED, key=KEY)
        wait_for(lambda: queries.sent_delivery(flask_app, first.json['id']), what='the welcome mail')
        marker = queries.post_event(client, queries.welcome_to('marker@example.com')).json
        wait_for(lambda: queries.sent_delivery(flask_app, marker['id']), what='a later mail (the queue drained)')
    assert (first.status_code, retry.status_code) == (202, 202)
    assert retry.json['id'] == first.json['id']
    assert retry.json['replayed'] is True
    return str(first.json['id'])


def _local_user(flask_app: Flask, user_id: str) -> tuple[str | None, str | None] | None:
    with flask_app.app_context():
        user = db.session.get(User, user_id)
        return None if user is None else (user.email, user.name)


def test_registration_on_the_embedded_default_sends_one_welcome_and_stores_the_user(
    smtp_users_app: Flask, smtp_server: RecordingHandler,
) -> None:
    assert _local_user(smtp_users_app, '42') is None

    _register_twice(smtp_users_app)
    welcome_mails = smtp_server.to(VASYA)
    with running_consumers(smtp_users_app):  # a later mailing to every user reaches the new one
        mailing = queries.post_event(smtp_users_app.test_client(), ANNOUNCEMENT).json
        wait_for(lambda: queries.sent_delivery(smtp_users_app, mailing['id']), what='the mailing to user 42')

    assert len(welcome_mails) == 1
    assert welcome_mails[0]['Subject'] == 'Добро пожаловать!'
    assert 'Привет Вася!' in _html(welcome_mails[0])
    assert _local_user(smtp_users_app, '42') == (VASYA, 'Вася')
    assert [mail['Subject'] for mail in smtp_server.to(VASYA)] == ['Добро пожаловать!', 'Премьера']


def test_registration_with_the_auth_service_as_directory_sends_to_the_address_it_carries(
    http_users_app: Flask, reference_users: ReferenceDirectory, smtp_server: RecordingHandler,
) -> None:
    # The auth service's replica does not know user 42 yet: the event's own address wins.
    notification_id = _register_twice(http_users_app)

    mails = smtp_server.to(VASYA)
    assert len(mails) == 1
    assert 'Привет Вася!' in _html(mails[0])
    assert [delivery.recipient for delivery in queries.deliveries_of(http_users_app, notification_id)] == [VASYA]
    assert _local_user(http_users_app, '42') is None  # the auth service owns its users


def test_a_user_already_in_the_directory_takes_the_registrations_address_and_keeps_the_rest(
    users_app: Flask,
) -> None:
    with users_app.app_context():
        db.session.add(User(id='42', email='old@example.com', name='Василий', locale='en', push_tokens=[]))
        db.session.commit()
    unnamed = {'type': 'user_registered', 'fields': {'user_id': '42', 'email': VASYA}}

    accepted = queries.post_event(users_app.test_client(), unnamed)

    assert accepted.status_code == 202
    with users_app.app_context():
        user = db.session.get(User, '42')
        assert (user.email, user.name, user.locale) == (VASYA, 'Василий', 'en')
