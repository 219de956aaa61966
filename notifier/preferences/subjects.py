"""Who a preference belongs to: a user of the directory, or an address known only as such."""

from dataclasses import dataclass
from typing import Final

USER_PREFIX: Final = 'user:'
EMAIL_PREFIX: Final = 'email:'


def user_subject(user_id: str) -> str:
    """The subject of a directory user."""
    return '{0}{1}'.format(USER_PREFIX, user_id)


def normalized_address(address: str) -> str:
    """An address as preferences key it: trimmed and lower-cased (mail systems ignore case in practice)."""
    return address.strip().lower()


def address_subject(address: str) -> str:
    """The subject of a recipient known only by address."""
    return '{0}{1}'.format(EMAIL_PREFIX, normalized_address(address))


@dataclass(frozen=True)
class Recipient:
    """A recipient as the pipeline sees it: a user id, an address, or both."""

    user_id: str | None = None
    email: str | None = None
    #: The user's time zone from the directory (a profile's own time zone wins).
    time_zone: str | None = None

    @property
    def subjects(self) -> tuple[str, ...]:
        """Every subject whose choices apply: the user's and the address's."""
        found = []
        if self.user_id:
            found.append(user_subject(self.user_id))
        if self.email:
            found.append(address_subject(self.email))
        return tuple(found)

    @property
    def unsubscribe_subject(self) -> str | None:
        """The subject an unsubscribe link turns off: the user when known, else the address."""
        found = self.subjects
        return found[0] if found else None
