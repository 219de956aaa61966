"""Operations (operator role): circuit breakers, queue depths and the parking lot (list, show, requeue, purge)."""

import json
from http import HTTPStatus
from typing import Final

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_admin import expose
from sqlalchemy import select
from werkzeug.wrappers import Response

from notifier.admin.base_view import SecuredView
from notifier.admin.queues import open_broker, queue_depths
from notifier.errors import StartupError
from notifier.extensions import db
from notifier.models import BreakerState
from notifier.models.admin_account import AdminRole
from notifier.pipeline import parking
from notifier.settings import Settings, settings_of

BROWSE_LIMIT: Final = 100
SHOW_SCAN_LIMIT: Final = 10000
PAGE: Final = 'notifier_admin/operations.html'
ERROR: Final = 'error'
SUCCESS: Final = 'success'


def _pretty(body: bytes) -> str:
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return repr(body)


def _back(message: str, category: str) -> Response:
    """Back to the operations page, with a message."""
    flash(message, category)
    return redirect(url_for('.index'))


class OperationsView(SecuredView):
    """``/admin/operations``: what operators watch and replay."""

    needed_role = AdminRole.operator

    def __init__(self, channels: tuple[str, ...]) -> None:
        """``channels`` name the send queues to show."""
        super().__init__(name='Operations', endpoint='admin_operations', url='/admin/operations')
        self.channels = channels

    @expose('/')
    def index(self) -> ResponseReturnValue:
        """Breaker states (from the database, so shown when RabbitMQ is down too), queue depths, parked messages."""
        settings = settings_of()
        by_name = select(BreakerState).order_by(BreakerState.name, BreakerState.holder)
        breakers = db.session.scalars(by_name).all()
        try:
            depths = queue_depths(settings, self.channels)
        except StartupError as error:
            return self.page(PAGE, breakers=breakers, broker_error=str(error)), HTTPStatus.SERVICE_UNAVAILABLE
        parked_total = next((depth.messages for depth in depths if depth.name == parking.PARKING_QUEUE), None)
        # An empty or not yet declared parking lot has nothing to browse (and browsing a missing queue fails).
        parked = self._parked(settings) if parked_total else []
        return self.page(
            PAGE, breakers=breakers, broker_error=None, depths=depths, parked=parked, parked_total=parked_total or 0,
        )

    @expose('/parked/<path:key>')
    def parked_view(self, key: str) -> ResponseReturnValue:
        """One parked message: its reason, headers and body."""
        try:
            parked = parking.browse(open_broker(settings_of()), SHOW_SCAN_LIMIT)
        except StartupError as error:
            return _back(str(error), ERROR)
        message = next((candidate for candidate in parked if candidate.key == key), None)
        if message is None:
            return _back('No parked message {0}: it was requeued or purged meanwhile.'.format(key), ERROR)
        headers = json.dumps(message.headers, default=str, ensure_ascii=False, indent=2)
        return self.page('notifier_admin/parked.html', message=message, headers=headers, body=_pretty(message.body))

    @expose('/requeue/', methods=('POST',))
    def requeue_view(self) -> Response:
        """Send one parked message (``key``) or all of them (``all``) back to their queues."""
        keys = None if request.form.get('all') else set(request.form.getlist('key'))
        if keys is not None and not keys:
            return _back('Choose a message to requeue.', ERROR)
        try:
            replayed, stuck = parking.requeue(open_broker(settings_of()), keys)
        except StartupError as error:
            return _back(str(error), ERROR)
        if stuck:
            flash('Left {0} message(s) whose queue is unknown: {1}'.format(len(stuck), ', '.join(stuck)), ERROR)
        return _back('Requeued {0} message(s).'.format(replayed), SUCCESS)

    @expose('/purge/', methods=('POST',))
    def purge_view(self) -> Response:
        """Drop every parked message; the form must confirm it."""
        if request.form.get('confirm') != 'purge':
            return _back('Type "purge" to confirm that the parked messages are dropped for good.', ERROR)
        try:
            purged = parking.purge(open_broker(settings_of()))
        except StartupError as error:
            return _back(str(error), ERROR)
        return _back('Purged {0} message(s).'.format(purged), SUCCESS)

    def _parked(self, settings: Settings) -> list[parking.ParkedMessage]:
        try:
            return parking.browse(open_broker(settings), BROWSE_LIMIT)
        except StartupError:
            return []  # RabbitMQ went away between two questions; the depths above say so on the next load
