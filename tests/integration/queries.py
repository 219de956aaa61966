"""Helpers of the integration tests: posting events, reading the database and queues."""

import json
from typing import Any

import pika
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from notifier.extensions import db
from notifier.models import Delivery, Notification
from notifier.pipeline import topology
from notifier.settings import settings_of
from tests.plugins.app import AUTH

WELCOME = {
    'meta': {'urgency': 'immidiate', 'scale': 'individual', 'email': 'vasya@example.com', 'periodic': False},
    'type': 'welcome',
    'fields': {'name': 'Вася'},
}


def welcome_to(email: str) -> dict[str, Any]:
    """The welcome event for another address."""
    return {**WELCOME, 'meta': {**WELCOME['meta'], 'email': email}}


def post_event(client: FlaskClient, body: Any, key: str | None = None) -> TestResponse:
    """POST /api/v1/events as an authenticated service."""
    headers = dict(AUTH)
    if key is not None:
        headers['Idempotency-Key'] = key
    return client.post('/api/v1/events', json=body, headers=headers)


def deliveries_of(app: Flask, notification_id: str) -> list[Delivery]:
    """The delivery rows of a notification."""
    with app.app_context():
        found = db.session.scalars(db.select(Delivery).where(Delivery.notification_id == notification_id)).all()
        db.session.expunge_all()
        return list(found)


def notification(app: Flask, notification_id: str) -> Notification | None:
    """A notification row."""
    with app.app_context():
        found = db.session.get(Notification, notification_id)
        db.session.expunge_all()
        return found


def notification_count(app: Flask) -> int:
    """How many notifications the database holds."""
    with app.app_context():
        return int(db.session.scalar(db.select(db.func.count()).select_from(Notification)) or 0)


def sent_delivery(app: Flask, notification_id: str) -> Delivery | None:
    """The notification's delivery once it is sent."""
    rows = deliveries_of(app, notification_id)
    return rows[0] if rows and rows[0].state == 'sent' else None


def final_delivery(app: Flask, notification_id: str) -> Delivery | None:
    """The notification's delivery once it is sent, failed or skipped."""
    rows = deliveries_of(app, notification_id)
    return rows[0] if rows and rows[0].state in {'sent', 'failed', 'skipped'} else None


def _channel(app: Flask) -> tuple[pika.BlockingConnection, Any]:
    connection = pika.BlockingConnection(pika.URLParameters(settings_of(app).broker_url))
    return connection, connection.channel()


def parked_messages(app: Flask) -> list[tuple[dict[str, Any], bytes]]:
    """Everything in the parking lot (taken off the queue): headers and body."""
    connection, channel = _channel(app)
    found = []
    try:
        while True:
            method, properties, body = channel.basic_get(topology.queue_name(topology.PARKING_LOT))
            if method is None:
                return found
            found.append((properties.headers or {}, body))
            channel.basic_ack(method.delivery_tag)
    finally:
        connection.close()


def queue_depth(app: Flask, routing_key: str) -> int:
    """How many messages wait (ready) in a routing key's queue."""
    connection, channel = _channel(app)
    try:
        declared = channel.queue_declare(topology.queue_name(routing_key), passive=True)
        return int(declared.method.message_count)
    finally:
        connection.close()


def parked_count(app: Flask) -> int:
    """How many messages wait in the parking lot (left on the queue)."""
    connection, channel = _channel(app)
    try:
        declared = channel.queue_declare(topology.queue_name(topology.PARKING_LOT), passive=True)
        return int(declared.method.message_count)
    finally:
        connection.close()


def publish(
    app: Flask, routing_key: str, body: bytes | dict[str, Any], headers: dict[str, Any] | None = None,
) -> None:
    """Publish a message straight into a queue, as a misbehaving producer (or a test) could."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    connection, channel = _channel(app)
    try:
        channel.confirm_delivery()
        channel.basic_publish(
            topology.EXCHANGE, routing_key, raw, pika.BasicProperties(delivery_mode=2, headers=headers), mandatory=True,
        )
    finally:
        connection.close()
