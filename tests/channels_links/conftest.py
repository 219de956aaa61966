"""Fixtures of the SMS/push channel and short link tests: the app with the link routes, users, stub providers."""

from collections.abc import Iterator

import pika
import pytest
from flask import Flask
from sqlalchemy import text

from notifier import links  # noqa: F401 - registers the short link models with the metadata
from notifier.api.short_links import link_clicks_blueprint, short_links_blueprint
from notifier.extensions import db
from notifier.models import User
from notifier.pipeline import topology
from tests.channels_links.stub_provider import StubProvider, serving

PHONE = '+79991234567'
TOKENS = ('device-token-one', 'device-token-two')
TABLES = ('link_clicks', 'short_links', 'user_segments', 'users', 'preferences', 'preference_profiles')


def register_link_routes(flask_app: Flask) -> None:
    """The redirect and the click counts, until ``notifier/api/registry.py`` registers them."""
    for blueprint in (short_links_blueprint, link_clicks_blueprint):
        if blueprint.name not in flask_app.blueprints:
            flask_app.register_blueprint(blueprint)


def _purge_channel_queues(broker_url: str) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(broker_url))
    channel = connection.channel()
    for spec in topology.all_queues(['sms', 'push'], 5, [1, 2]):
        try:
            channel.queue_purge(spec.name)
        except pika.exceptions.ChannelClosedByBroker:
            channel = connection.channel()
    connection.close()


@pytest.fixture
def links_app(app: Flask, database_url: str, broker_url: str, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """The test app with the link routes, empty link and user tables, and one user with a phone and two devices."""
    monkeypatch.setenv('NOTIFIER_LINK_HOSTS', 'cinema.example,.cinema.example')
    register_link_routes(app)
    _purge_channel_queues(broker_url)
    with app.app_context():
        if not database_url.startswith('sqlite'):
            db.session.execute(text('TRUNCATE {0} CASCADE'.format(', '.join(TABLES))))
        db.session.add(User(id='42', email='vasya@example.com', name='Вася', phone=PHONE, push_tokens=list(TOKENS)))
        db.session.add(User(id='43', email='petya@example.com', name='Петя'))
        db.session.commit()
    return app


@pytest.fixture
def sms_provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[StubProvider]:
    """The stub SMS provider over HTTP, the app's SMS channel pointed at it."""
    with serving('/sms') as provider:
        monkeypatch.setenv('NOTIFIER_SMS_URL', provider.url)
        yield provider


@pytest.fixture
def push_provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[StubProvider]:
    """The stub push provider over HTTP, the app's push channel pointed at it."""
    with serving('/push') as provider:
        monkeypatch.setenv('NOTIFIER_PUSH_URL', provider.url)
        yield provider
