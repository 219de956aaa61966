"""The ``push`` channel: title, body and data of the template, to one device token."""

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from notifier.channels.base import AddressKind, Channel, OutgoingMessage, SendResult
from notifier.channels.provider import RateLimiter, open_transport
from notifier_push_stub.settings import PushSettingsSchema

#: APNs and FCM refuse a larger payload.
MAX_PAYLOAD_BYTES: Final = 4096
MAX_TITLE_LENGTH: Final = 100
MAX_TOKEN_LENGTH: Final = 4096
TOKEN_PATTERN: Final = re.compile(r'[\x21-\x7e]+')
DATA_BLOCK: Final = 'data'


class PushDataError(ValueError):
    """The template's ``data`` block is not a JSON object of strings."""


def _all_strings(data_values: Iterable[object]) -> bool:
    return all(isinstance(data_value, str) for data_value in data_values)


def parse_data(block: str) -> dict[str, str]:
    """The ``data`` block as a JSON object whose values are strings (FCM's rule); empty is ``{}``."""
    if not block.strip():
        return {}
    try:
        loaded = json.loads(block)
    except ValueError as error:
        raise PushDataError('the push data block is not JSON: {0}'.format(error)) from None
    if not isinstance(loaded, dict) or not _all_strings(loaded.values()):
        raise PushDataError('the push data block must be a JSON object of strings')
    return loaded


class PushChannel(Channel):
    """Sends ``subject`` (title), ``text`` (body) and ``data`` of ``templates/push/<name>.<locale>.html``."""

    name = 'push'
    settings_schema = PushSettingsSchema
    address_kind = AddressKind.push_token

    def __init__(self, settings: Mapping[str, Any]) -> None:
        """Prepare the transport (one request per send, nothing opened yet)."""
        super().__init__(settings)
        self._limiter = RateLimiter(settings['rate'])
        self._transport = open_transport(
            settings['url'], settings['timeout'], settings['fail'], settings['fail_count'],
        )

    def send(self, message: OutgoingMessage) -> SendResult:
        """Check the token and the payload, then hand the push to the provider."""
        token = message.recipient
        if len(token) > MAX_TOKEN_LENGTH or not TOKEN_PATTERN.fullmatch(token):
            return SendResult.permanent('invalid push token')
        try:
            push_data = parse_data(message.blocks.get(DATA_BLOCK, ''))
        except PushDataError as error:
            return SendResult.permanent(str(error))
        title = message.subject
        if not title or len(title) > MAX_TITLE_LENGTH:
            return SendResult.permanent('the push title must be 1 to {0} characters'.format(MAX_TITLE_LENGTH))
        payload = {'id': message.delivery_id, 'token': token, 'title': title, 'body': message.text, 'data': push_data}
        size = len(json.dumps(payload, ensure_ascii=False).encode())
        if size > MAX_PAYLOAD_BYTES:
            return SendResult.permanent('the push payload is {0} bytes; providers accept {1}'.format(
                size, MAX_PAYLOAD_BYTES,
            ))
        self._limiter.wait()
        return self._transport.deliver(payload, message.delivery_id)
