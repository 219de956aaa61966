"""Whether a mailing reaches a recipient on a channel, and if not why: the generator's rules, read only.

The same verdicts as the expansion (``notifier/pipeline/expansion.py``):
preferences (an opt-out, quiet hours, which a mailing does not wait out),
then the recipient's addresses of the kind the channel sends to. Reasons
name no user, so that alike reasons count together.
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from notifier.channels.base import AddressKind
from notifier.models import Notification
from notifier.notification_types import category_of
from notifier.pipeline.addressing import Addressee
from notifier.pipeline.channel_addresses import MISSING
from notifier.pipeline.expansion import QUIET_HOURS
from notifier.preferences.rules import DatabasePreferences, decide


@dataclass(frozen=True)
class Reach:
    """Reads preferences with ``session``; ``address_kinds`` maps a channel to its ``AddressKind``."""

    session: Session
    #: channel -> the kind of address it sends to; a channel not listed sends to email (as in the pipeline).
    address_kinds: Mapping[str, str]

    def addresses(self, addressee: Addressee, channel: str) -> tuple[str, ...]:
        """The recipient's addresses on ``channel`` (none, one, or one per device)."""
        kind = self.address_kinds.get(channel, AddressKind.email)
        if kind == AddressKind.email:
            return (addressee.email,) if addressee.email else ()
        return tuple(addressee.addresses.get(kind, ()))

    def missing(self, addressee: Addressee, channel: str) -> str:
        """Why a recipient without an address of the channel's kind is skipped (the generator's words)."""
        kind = self.address_kinds.get(channel, AddressKind.email)
        return 'user {0} has no {1}'.format(addressee.recipient.user_id, MISSING.get(kind, kind))

    def reachable(self, addressee: Addressee, channels: list[str]) -> bool:
        """Whether the recipient has an address on at least one of ``channels``."""
        return any(self.addresses(addressee, channel) for channel in channels)

    def refusal(
        self, notification: Notification, addressee: Addressee, channel: str, moment: dt.datetime,
    ) -> str | None:
        """Why the generator skips the recipient on ``channel`` at ``moment``; ``None`` when it sends."""
        category = category_of(notification.type)
        verdict = decide(DatabasePreferences(self.session), addressee.recipient, category, channel, moment)
        if not verdict.allowed:
            return verdict.reason
        if verdict.wait_until is not None:
            return QUIET_HOURS
        if not self.addresses(addressee, channel):
            return self.missing(addressee, channel)
        return None
