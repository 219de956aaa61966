"""Helpers of the user tests: notifications addressed by user id, and the deliveries they made."""

from typing import Any

from flask import Flask

from notifier.extensions import db
from notifier.services.accept import Intake, accept_event


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
    """Accept a user-addressed notification, as the API does (the outbox relay publishes it); its id."""
    event = event_for_user(user_id, notification_type, **event_fields)
    with flask_app.app_context():
        accepted = accept_event(db.session(), event, {'user_id': user_id, **event_fields}, None, Intake('ru'))
        return str(accepted.notification.id)
