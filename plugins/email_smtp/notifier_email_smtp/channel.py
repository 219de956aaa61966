"""The ``email`` channel."""

from collections.abc import Mapping, Sequence
from typing import Any

from notifier.channels.base import Channel, MayBegin, OutgoingMessage, SendResult
from notifier_email_smtp.headers import HeaderInjectionError
from notifier_email_smtp.mime import RawMail, build_mail, is_valid_address
from notifier_email_smtp.settings import EmailSettingsSchema
from notifier_email_smtp.transports import KeyedMails, open_transport


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
        mail = self._mail(message)
        if isinstance(mail, SendResult):
            return mail
        return self._transport.deliver(mail, message.delivery_id)

    def send_many(self, messages: Sequence[OutgoingMessage], may_begin: MayBegin) -> list[SendResult]:
        """Build the mails and hand runs of them to the transport (over SMTP, pipelined where offered).

        A mail that cannot be built is answered in its place, once ``may_begin()`` let it begin.
        """
        answers: list[SendResult] = []
        run: list[tuple[RawMail, str]] = []
        for message in messages:
            mail = self._mail(message)
            if not isinstance(mail, SendResult):
                run.append((mail, message.delivery_id))
                continue
            if not self._all_begun(run, may_begin, answers) or not may_begin():
                return answers
            answers.append(mail)
            run = []
        self._all_begun(run, may_begin, answers)
        return answers

    def close(self) -> None:
        """Close the SMTP connection."""
        self._transport.close()

    def _mail(self, message: OutgoingMessage) -> RawMail | SendResult:
        """The mail, or why it cannot be sent (a permanent failure)."""
        if not is_valid_address(message.recipient):
            return SendResult.permanent('invalid email address {0!r}'.format(message.recipient))
        try:
            return build_mail(message, self._from_address)
        except HeaderInjectionError as error:
            return SendResult.permanent(str(error))

    def _all_begun(self, run: KeyedMails, may_begin: MayBegin, answers: list[SendResult]) -> bool:
        """Deliver a run of built mails; whether every one of them was begun."""
        if not run:
            return True
        delivered = self._transport.deliver_many(run, may_begin)
        answers.extend(delivered)
        return len(delivered) == len(run)
