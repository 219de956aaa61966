"""The built-in ``websocket`` channel: files the message in the user's inbox, then pushes it live.

Addressed by user id (``address_kind``): the recipient of a websocket
delivery is the directory user's id. ``send`` files the inbox item (one per
delivery: a re-sent delivery finds the item it filed before) and publishes
it to the fan-out exchange, from which every API process forwards it to the
sockets of that user (``notifier/api/websocket.py``). Each push carries the
inbox item id, so a client shows an item once however often it arrives.

Unlike a third party's plugin, this channel runs inside the consumer's app
context and uses the database and the broker directly: it is the one channel
whose "provider" is the notifier itself (docs/decisions/0009-websockets.md).
"""

from collections.abc import Mapping
from typing import Any

from flask import current_app
from marshmallow import EXCLUDE, Schema
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from notifier.channels.base import AddressKind, Channel, OutgoingMessage, SendResult
from notifier.errors import StartupError
from notifier.extensions import db
from notifier.hookspecs import hookimpl
from notifier.inbox.pushes import fanout_message
from notifier.inbox.store import NewItem, file_item
from notifier.pipeline.broker_errors import BrokerError
from notifier.pipeline.live import LivePublisher
from notifier.settings import settings_of


class WebSocketSettingsSchema(Schema):
    """No settings of its own: it uses the database and broker of the process.

    ``NOTIFIER_WEBSOCKET_SECRET`` (the site's token secret) is read by the API, not by the channel.
    """

    class Meta:
        unknown = EXCLUDE


class WebSocketChannel(Channel):
    """Delivers to the user's inbox and to their open sockets."""

    name = 'websocket'
    settings_schema = WebSocketSettingsSchema
    address_kind = AddressKind.user_id

    def __init__(self, settings: Mapping[str, Any]) -> None:
        """The publisher connects on the first send (on the sender's thread)."""
        super().__init__(settings)
        self._publisher: LivePublisher | None = None

    def send(self, message: OutgoingMessage) -> SendResult:
        """File the inbox item (once per delivery), then push it to the fan-out exchange."""
        user_id = message.recipient
        if not user_id:
            return SendResult.permanent('a websocket delivery needs the user id of its recipient')
        try:
            fanout = self._filed(message, user_id)
        except SQLAlchemyError as error:
            return SendResult.temporary('cannot file the inbox item: {0}'.format(type(error).__name__))
        item_id = fanout['message']['id']
        try:
            self._live().push(fanout, item_id)
        except (BrokerError, StartupError) as error:
            return SendResult.temporary('filed in the inbox, the live push failed: {0}'.format(error))
        return SendResult.sent(item_id)

    def close(self) -> None:
        """Close the publisher's connection."""
        if self._publisher is not None:
            self._publisher.close()

    def _filed(self, message: OutgoingMessage, user_id: str) -> dict[str, Any]:
        new_item = NewItem(
            user_id=user_id,
            notification_id=message.notification_id,
            delivery_id=message.delivery_id,
            title=message.subject,
            body=message.text,
            payload={'html': message.html},
        )
        with Session(db.engine) as session:
            return fanout_message(file_item(session, new_item))

    def _live(self) -> LivePublisher:
        if self._publisher is None:
            self._publisher = LivePublisher(settings_of(current_app).broker_url)
        return self._publisher


@hookimpl
def notifier_channels() -> list[type[Channel]]:
    """Provide the built-in ``websocket`` channel."""
    return [WebSocketChannel]
