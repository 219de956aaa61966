"""The ``email`` channel."""

from collections.abc import Mapping
from typing import Any

from notifier.channels.base import Channel, OutgoingMessage, SendResult
from notifier_email_smtp.headers import HeaderInjectionError
from notifier_email_smtp.mime import build_mail, is_valid_address
from notifier_email_smtp.settings import EmailSettingsSchema
from notifier_email_smtp.transports import open_transport


class EmailChannel(Channel):
    """Sends rendered messages as MIME mails through the configured transport."""

    name = 'email'
    settings_schema = EmailSettingsSchema

    def __init__(self, settings: Mapping[str, Any]) -> None:
        """Open the transport lazily (an SMTP connection is made on first send)."""
        super().__init__(settings)
        self._from_address: str = settings['from_address']
        self._transport = open_transport(settings['url'], settings['timeout'])

    def send(self, message: OutgoingMessage) -> SendResult:
        """Build the mail and hand it to the transport."""
        if not is_valid_address(message.recipient):
            return SendResult.permanent('invalid email address {0!r}'.format(message.recipient))
        try:
            mail = build_mail(message, self._from_address)
        except HeaderInjectionError as error:
            return SendResult.permanent(str(error))
        return self._transport.deliver(mail, message.delivery_id)

    def close(self) -> None:
        """Close the SMTP connection."""
        self._transport.close()
