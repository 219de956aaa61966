"""The database model: notifications, their outbox, deliveries and templates."""

from notifier.models.base import Base
from notifier.models.delivery import Delivery, DeliveryState
from notifier.models.notification import Notification, NotificationStatus
from notifier.models.outbox import OutboxMessage
from notifier.models.schedule import MisfirePolicy, Occurrence, OccurrenceState, Schedule
from notifier.models.template import StoredTemplate

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
    'Schedule',
    'StoredTemplate',
]
