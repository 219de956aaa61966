"""Which address of a recipient each channel sends to: email, phone, push tokens, user id.

A channel names the kind of address it needs (``Channel.address_kind``); the
generator asks here for the recipient's addresses of that kind and forwards
one worker message per address (a user with two phones' push tokens gets two
push deliveries, one per device). A recipient with no address of the kind
gets a ``skipped`` delivery on that channel with the reason.
"""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from notifier.channels.base import AddressKind
from notifier.models import Notification
from notifier.pipeline.addressing import Addressee, worker_message
from notifier.pipeline.context import StageContext
from notifier.pipeline.outcomes import Forward
from notifier.pipeline.skips import record_skip

MISSING: Final[Mapping[str, str]] = MappingProxyType({
    AddressKind.email: 'email address',
    AddressKind.phone: 'phone number',
    AddressKind.push_token: 'push token',
    AddressKind.user_id: 'user id',
})


def address_kind(context: StageContext, channel: str) -> str:
    """The kind of address ``channel`` needs; email for a channel no plugin provides (the worker fails it)."""
    installed = context.channels.get(channel)
    if installed is None:
        return AddressKind.email
    return type(installed).address_kind


def channel_addresses(context: StageContext, addressee: Addressee, channel: str) -> tuple[str, ...]:
    """The recipient's addresses on ``channel`` (none, one, or one per device)."""
    kind = address_kind(context, channel)
    if kind == AddressKind.email:
        return (addressee.email,) if addressee.email else ()
    return tuple(addressee.addresses.get(kind, ()))


def has_any_address(context: StageContext, addressee: Addressee, channels: list[str]) -> bool:
    """Whether the recipient can be reached on at least one of ``channels``."""
    return any(channel_addresses(context, addressee, channel) for channel in channels)


def missing_address_reason(context: StageContext, addressee: Addressee, channel: str) -> str:
    """Why a recipient gets nothing on ``channel``: ``user 42 has no phone number``."""
    kind = address_kind(context, channel)
    return 'user {0} has no {1}'.format(addressee.recipient.user_id, MISSING.get(kind, kind))


def addressed_forwards(
    context: StageContext, notification: Notification, addressee: Addressee, channel: str,
) -> list[Forward]:
    """One worker message per address of the recipient on ``channel``, or a skipped delivery."""
    addresses = channel_addresses(context, addressee, channel)
    if not addresses:
        reason = missing_address_reason(context, addressee, channel)
        record_skip(context.session, notification.id, addressee.delivery_recipient, channel, reason)
        return []
    return [worker_message(notification, addressee, channel, address) for address in addresses]
