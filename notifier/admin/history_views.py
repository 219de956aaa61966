"""History: search deliveries by recipient, notification and state; one delivery's details."""

import json
from http import HTTPStatus
from typing import Final

from flask import abort, request
from flask.typing import ResponseReturnValue
from flask_admin import expose
from sqlalchemy import Select, func, select

from notifier.admin.base_view import SecuredView
from notifier.extensions import db
from notifier.models import Delivery, DeliveryState
from notifier.services.settlement import settle_notifications

PAGE_SIZE: Final = 100
STATES: Final = (
    DeliveryState.pending, DeliveryState.sending, DeliveryState.sent, DeliveryState.failed, DeliveryState.skipped,
)


def _search(recipient: str, notification_id: str, state: str) -> Select[Delivery]:
    query = select(Delivery).order_by(Delivery.created_at.desc(), Delivery.id).limit(PAGE_SIZE)
    if recipient:
        query = query.where(func.lower(Delivery.recipient) == recipient.lower())
    if notification_id:
        query = query.where(Delivery.notification_id == notification_id)
    if state in STATES:
        query = query.where(Delivery.state == state)
    return query


class HistoryView(SecuredView):
    """``/admin/history``: what was sent to whom, and what went wrong."""

    def __init__(self) -> None:
        """Registered under ``/admin/history``."""
        super().__init__(name='History', endpoint='admin_history', url='/admin/history')

    @expose('/')
    def index(self) -> ResponseReturnValue:
        """The search form and up to :data:`PAGE_SIZE` deliveries, newest first."""
        recipient = request.args.get('recipient', '').strip()
        notification_id = request.args.get('notification', '').strip()
        state = request.args.get('state', '').strip()
        searched = bool(recipient or notification_id or state)
        deliveries = db.session.scalars(_search(recipient, notification_id, state)).all() if searched else []
        return self.page(
            'notifier_admin/history.html',
            deliveries=deliveries,
            searched=searched,
            recipient=recipient,
            notification_id=notification_id,
            state=state,
            states=STATES,
            page_size=PAGE_SIZE,
        )

    @expose('/delivery/<delivery_id>/')
    def delivery_view(self, delivery_id: str) -> ResponseReturnValue:
        """One delivery: its state, attempts, last error and its notification."""
        delivery = db.session.get(Delivery, delivery_id)
        if delivery is None:
            abort(HTTPStatus.NOT_FOUND)
        notification = delivery.notification
        if settle_notifications(db.session(), [notification.id]):  # its final status, once every delivery is final
            db.session.commit()
        fields_json = json.dumps(notification.fields, ensure_ascii=False, indent=2)
        return self.page(
            'notifier_admin/delivery.html', delivery=delivery, notification=notification, fields_json=fields_json,
        )
