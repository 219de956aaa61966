"""Schedules (operator role): see them, pause and resume."""

from http import HTTPStatus

from flask import abort, flash, redirect, url_for
from flask_admin import expose
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from werkzeug.wrappers import Response

from notifier.admin.base_view import SecuredView
from notifier.extensions import db
from notifier.models import Schedule
from notifier.models.admin_account import AdminRole
from notifier.models.base import utcnow
from notifier.services.schedules import set_enabled


class SchedulesView(SecuredView):
    """``/admin/schedules``: periodic notifications (created through ``/api/v1/schedules``)."""

    needed_role = AdminRole.operator

    def __init__(self) -> None:
        """Registered under ``/admin/schedules``."""
        super().__init__(name='Schedules', endpoint='admin_schedules', url='/admin/schedules')

    @expose('/')
    def index(self) -> ResponseReturnValue:
        """Every schedule with its timing, state and next fire time."""
        schedules = db.session.scalars(select(Schedule).order_by(Schedule.name)).all()
        return self.page('notifier_admin/schedules.html', schedules=schedules)

    @expose('/<schedule_id>/pause/', methods=('POST',))
    def pause_view(self, schedule_id: str) -> Response:
        """Stop firing; fires that fall in the pause are not caught up."""
        return self._set_enabled(schedule_id, enabled=False)

    @expose('/<schedule_id>/resume/', methods=('POST',))
    def resume_view(self, schedule_id: str) -> Response:
        """Fire again from the next fire time after now."""
        return self._set_enabled(schedule_id, enabled=True)

    def _set_enabled(self, schedule_id: str, enabled: bool) -> Response:
        schedule = db.session.get(Schedule, schedule_id)
        if schedule is None:
            abort(HTTPStatus.NOT_FOUND)
        set_enabled(db.session(), schedule, enabled, utcnow())
        flash('{0} {1}.'.format('Resumed' if enabled else 'Paused', schedule.name), 'success')
        return redirect(url_for('.index'))
