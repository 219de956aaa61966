"""The ``sms`` channel: the template's text, at most ``max_segments`` SMS, to the user's phone."""

import re
from collections.abc import Mapping
from typing import Any, Final

from notifier.channels.base import AddressKind, Channel, OutgoingMessage, SendResult
from notifier.channels.provider import RateLimiter, open_transport
from notifier_sms_stub.segments import segment_count
from notifier_sms_stub.settings import SmsSettingsSchema

#: E.164: a plus, a country code that does not start with 0, at most 15 digits in all.
PHONE_PATTERN: Final = re.compile(r'\+[1-9]\d{6,14}')


class SmsChannel(Channel):
    """Sends the ``text`` block of ``templates/sms/<name>.<locale>.html`` to a stub provider."""

    name = 'sms'
    settings_schema = SmsSettingsSchema
    address_kind = AddressKind.phone

    def __init__(self, settings: Mapping[str, Any]) -> None:
        """Prepare the transport (one request per send, nothing opened yet)."""
        super().__init__(settings)
        self._sender: str = settings['sender']
        self._max_segments: int = settings['max_segments']
        self._limiter = RateLimiter(settings['rate'])
        self._transport = open_transport(
            settings['url'], settings['timeout'], settings['fail'], settings['fail_count'],
        )

    def send(self, message: OutgoingMessage) -> SendResult:
        """Check the number and the length, then hand the SMS to the provider."""
        if not PHONE_PATTERN.fullmatch(message.recipient):
            return SendResult.permanent('invalid phone number {0!r} (E.164 expected)'.format(message.recipient))
        text = message.text.strip()
        segments = segment_count(text)
        if not segments:
            return SendResult.permanent('the SMS template rendered an empty text')
        if segments > self._max_segments:
            return SendResult.permanent(
                'the SMS text needs {0} segments ({1} characters); NOTIFIER_SMS_MAX_SEGMENTS is {2}'.format(
                    segments, len(text), self._max_segments,
                ),
            )
        self._limiter.wait()
        return self._transport.deliver(
            {
                'id': message.delivery_id,
                'to': message.recipient,
                'from': self._sender,
                'text': text,
                'segments': segments,
            },
            message.delivery_id,
        )
