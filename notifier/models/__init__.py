"""The database model: notifications, their outbox, deliveries, templates, schedules, users, preferences."""

from notifier.models.admin_account import AdminAccount, AdminRole
from notifier.models.base import Base
from notifier.models.breaker_state import BreakerPhase, BreakerState
from notifier.models.delivery import Delivery, DeliveryState
from notifier.models.inbox import InboxItem
from notifier.models.mailing import Mailing, MailingState, RateBucket, RateLimit
from notifier.models.notification import Notification, NotificationStatus
from notifier.models.outbox import OutboxMessage
from notifier.models.preference import Preference, PreferenceProfile
from notifier.models.schedule import MisfirePolicy, Occurrence, OccurrenceState, Schedule
from notifier.models.short_link import LinkClick, ShortLink
from notifier.models.template import StoredTemplate
from notifier.models.user import User, UserSegment

__all__ = [
    'AdminAccount',
    'AdminRole',
    'Base',
    'BreakerPhase',
    'BreakerState',
    'Delivery',
    'DeliveryState',
    'Notification',
    'NotificationStatus',
    'InboxItem',
    'LinkClick',
    'Mailing',
    'MailingState',
    'MisfirePolicy',
    'Occurrence',
    'OccurrenceState',
    'OutboxMessage',
    'Preference',
    'PreferenceProfile',
    'RateBucket',
    'RateLimit',
    'Schedule',
    'ShortLink',
    'StoredTemplate',
    'User',
    'UserSegment',
]
