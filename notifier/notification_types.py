"""The notification types the API accepts, what each one means, and its category.

A category is what a recipient turns on or off (per channel) and what an
unsubscribe link names: ``transactional`` (password reset, welcome: ignores
opt-outs and quiet hours), ``service`` (a new episode of a show you follow)
and ``marketing`` (promotions and announcements).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final


class Category:
    """The categories of notification types."""

    transactional: Final = 'transactional'
    service: Final = 'service'
    marketing: Final = 'marketing'


CATEGORIES: Final = (Category.transactional, Category.service, Category.marketing)
#: The categories a recipient may turn off.
OPTIONAL_CATEGORIES: Final = (Category.service, Category.marketing)


@dataclass(frozen=True)
class NotificationType:
    """A kind of notification: its default template and its category."""

    name: str
    template: str
    category: str = Category.service
    #: Sent on registration: the recipient joins the local user directory (``services/registration.py``).
    registers: bool = False

    @property
    def transactional(self) -> bool:
        """Transactional notifications ignore opt-outs and quiet hours."""
        return self.category == Category.transactional


_KNOWN = (
    NotificationType('welcome', 'welcome', Category.transactional, registers=True),
    NotificationType('user_registered', 'welcome', Category.transactional, registers=True),
    NotificationType('info', 'info', Category.marketing),
    NotificationType('show_subs', 'show_subs', Category.service),
)

NOTIFICATION_TYPES: Mapping[str, NotificationType] = MappingProxyType({known.name: known for known in _KNOWN})


def category_of(type_name: str) -> str:
    """The category of a notification type; an unknown type counts as ``service``."""
    known = NOTIFICATION_TYPES.get(type_name)
    return known.category if known else Category.service
