"""Helpers of the review-defect tests (issue 17): delivery rows set up directly, their sender messages, settings."""

from typing import Any

import pika
from flask import Flask

from notifier.constants import ATTEMPT_HEADER
from notifier.extensions import db
from notifier.models import Delivery, Notification
from notifier.models.delivery import delivery_id_for
from notifier.pipeline import topology
from notifier.settings import SETTINGS_KEY, settings_of
from tests.integration import queries

EMAIL = 'email'
EMAIL_ROUTE = topology.channel_route(EMAIL)


def with_settings(app: Flask, **changes: Any) -> Flask:
    """The app with some settings changed (read by the consumers started afterwards)."""
    app.extensions[SETTINGS_KEY] = settings_of(app).model_copy(update=changes)
    return app


def a_notification(app: Flask) -> str:
    """A notification row for the deliveries a test sets up by hand."""
    with app.app_context():
        notification = Notification(
            request_hash='0' * 64, type='welcome', urgency='immidiate', scale='individual',
            template='welcome', locale='ru', channels=[EMAIL], fields={'name': 'Зритель'},
        )
        db.session.add(notification)
        db.session.commit()
        return str(notification.id)


def a_delivery(app: Flask, notification_id: str, recipient: str, **columns: Any) -> str:
    """An email delivery row (``pending`` unless ``columns`` say otherwise); its id."""
    delivery_id = delivery_id_for(notification_id, recipient, EMAIL)
    with app.app_context():
        db.session.add(Delivery(
            id=delivery_id, notification_id=notification_id, recipient=recipient, channel=EMAIL, **columns,
        ))
        db.session.commit()
    return delivery_id


def delivery(app: Flask, delivery_id: str) -> Delivery:
    """A delivery row as it is now."""
    with app.app_context():
        found = db.session.get_one(Delivery, delivery_id)
        db.session.expunge_all()
        return found


def in_state(app: Flask, delivery_id: str, *states: str) -> Delivery | None:
    """The delivery row once it is in one of ``states``."""
    row = delivery(app, delivery_id)
    return row if row.state in states else None


def answered(app: Flask, delivery_id: str) -> Delivery | None:
    """The delivery row once a sender claimed it and recorded its answer (claimed, and no longer ``sending``)."""
    row = delivery(app, delivery_id)
    return row if row.attempts and row.state != 'sending' else None


def publish_send(
    app: Flask, notification_id: str, recipient: str, attempt_header: Any = None,
) -> None:
    """The sender's message for a delivery, published to ``channel.email`` (with an attempt header, if given)."""
    body = {
        'delivery_id': delivery_id_for(notification_id, recipient, EMAIL),
        'notification_id': notification_id,
        'channel': EMAIL,
        'email': recipient,
        'content': {'subject': 'Проверка', 'html': '<p>Проверка</p>', 'text': 'Проверка'},
        'user_id': None,
        'category': 'transactional',
    }
    headers = None if attempt_header is None else {ATTEMPT_HEADER: attempt_header}
    queries.publish(app, EMAIL_ROUTE, body, headers=headers)


def email_consumers(app: Flask) -> int:
    """How many consumers read the ``channel.email`` queue."""
    connection = pika.BlockingConnection(pika.URLParameters(settings_of(app).broker_url))
    try:
        declared: Any = connection.channel().queue_declare(topology.queue_name(EMAIL_ROUTE), passive=True)
        return int(declared.method.consumer_count)
    finally:
        connection.close()
