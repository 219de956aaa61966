"""The database model: notifications, their outbox, deliveries, templates, schedules, users, preferences."""

from notifier.models.base import Base
from notifier.models.delivery import Delivery, DeliveryState
from notifier.models.notification import Notification, NotificationStatus
from notifier.models.outbox import OutboxMessage
from notifier.models.preference import Preference, PreferenceProfile
from notifier.models.schedule import MisfirePolicy, Occurrence, OccurrenceState, Schedule
from notifier.models.template import StoredTemplate
from notifier.models.user import User, UserSegment

__all__ = [
    'Base',
    'Delivery',
    'DeliveryState',
    'Notification',
    'NotificationStatus',
    'MisfirePolicy',
    'Occurrence',
    'OccurrenceState',
    'OutboxMessage',
    'Preference',
    'PreferenceProfile',
    'Schedule',
    'StoredTemplate',
    'User',
    'UserSegment',
]
