"""The notification types the API accepts, and what each one means."""

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class NotificationType:
    """A kind of notification: its default template and whether it is transactional."""

    name: str
    template: str
    #: Transactional notifications ignore marketing opt-outs and quiet hours.
    transactional: bool = False


_KNOWN = (
    NotificationType('welcome', 'welcome', transactional=True),
    NotificationType('user_registered', 'welcome', transactional=True),
    NotificationType('info', 'info'),
    NotificationType('show_subs', 'show_subs'),
)

NOTIFICATION_TYPES: Mapping[str, NotificationType] = MappingProxyType({known.name: known for known in _KNOWN})
