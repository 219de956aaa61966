"""Who a worker message goes to: a recipient completed from the user directory."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from notifier.models import Notification
from notifier.notification_types import category_of
from notifier.pipeline import topology
from notifier.pipeline.outcomes import Forward
from notifier.preferences.subjects import Recipient, user_subject
from notifier.users import UserProfile
from notifier.users.addresses import profile_addresses


@dataclass(frozen=True)
class Addressee:
    """A recipient with what the worker needs: address, template fields, locale."""

    recipient: Recipient
    email: str | None
    locale: str
    template_fields: Mapping[str, Any] = field(default_factory=dict)
    #: Addresses other than email, by ``AddressKind`` (phone, push tokens): see ``channel_addresses``.
    addresses: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def delivery_recipient(self) -> str:
        """What the delivery row names: the address, or ``user:<id>`` when there is none."""
        if self.email:
            return self.email
        return user_subject(self.recipient.user_id or '')


def worker_message(
    notification: Notification, addressee: Addressee, channel: str, address: str | None = None,
) -> Forward:
    """The worker's message for one recipient on one channel (the brief's worker shape).

    ``address`` is the channel's address (a phone, a push token); email by default.
    """
    email = address or addressee.email or ''
    return Forward(
        routing_key=topology.lane_route(topology.WORKER, notification.is_bulk),
        body={
            'notification_id': notification.id,
            'channel': channel,
            'email': email,
            'template': notification.template,
            'locale': addressee.locale,
            'fields': dict(addressee.template_fields),
            'user_id': addressee.recipient.user_id,
            'category': category_of(notification.type),
        },
        message_id='work:{0}:{1}:{2}'.format(notification.id, channel, email),
    )


def enrich(notification: Notification, profile: UserProfile | None) -> Addressee:
    """The event's recipient completed from the directory's profile (the event's fields win)."""
    if profile is None:
        return Addressee(
            recipient=Recipient(user_id=notification.recipient_id, email=notification.recipient_email),
            email=notification.recipient_email,
            locale=notification.locale,
            template_fields=notification.fields,
        )
    email = notification.recipient_email or profile.email
    return Addressee(
        recipient=Recipient(user_id=profile.id, email=email, time_zone=profile.time_zone),
        email=email,
        locale=profile.locale or notification.locale,
        template_fields={**profile.template_fields(), **notification.fields},
        addresses=profile_addresses(profile),
    )
