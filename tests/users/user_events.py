"""Helpers of the user tests: notifications addressed by user id, and the deliveries they made."""

from typing import Any

from flask import Flask
from sqlalchemy import update

from notifier.extensions import db
from notifier.models import OutboxMessage
from notifier.models.base import utcnow
from notifier.pipeline import topology
from notifier.services.accept import Intake, accept_event
from notifier.services.announcements import notification_message
from tests.integration import queries


def event_for_user(user_id: str, notification_type: str = 'show_subs', **event_fields: Any) -> dict[str, Any]:
    """A validated event naming its recipient by ``user_id`` only (the hybrid mode)."""
    return {
        'meta': {
            'urgency': 'immediate', 'scale': 'individual', 'email': None, 'user_id': user_id,
            'periodic': False, 'scheduled_at': None, 'locale': None,
        },
        'notification_type': notification_type,
        'custom_template': None,
        'content_id': None,
        'channels': ['email'],
        'event_fields': event_fields or {'show': 'Тьма'},
    }


def notify_user(flask_app: Flask, user_id: str, notification_type: str = 'show_subs', **event_fields: Any) -> str:
    """Accept a user-addressed notification and publish it once (as the API does); its id."""
    event = event_for_user(user_id, notification_type, **event_fields)
    with flask_app.app_context():
        accepted = accept_event(db.session(), event, {'user_id': user_id, **event_fields}, None, Intake('ru'))
        db.session.execute(  # published here: the relay must not publish a second copy
            update(OutboxMessage).where(OutboxMessage.id.in_(accepted.outbox_ids)).values(published_at=utcnow()),
        )
        db.session.commit()
        notification_id = accepted.notification.id
        body = dict(notification_message(accepted.notification).body)
    queries.publish(flask_app, topology.NOTIFICATIONS, body)
    return notification_id
