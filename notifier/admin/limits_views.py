"""Rate limits (operator role): list them, set one at run time, remove one; every process follows within seconds."""

from http import HTTPStatus

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_admin import expose
from werkzeug.wrappers import Response

from notifier.admin.base_view import SecuredView
from notifier.admin.forms import LimitForm
from notifier.extensions import db
from notifier.models.admin_account import AdminRole
from notifier.ratelimit import CHANNEL_SEND, GENERATOR_PUBLISH, parse_rate
from notifier.services.limits import all_limits, set_limit

MAX_NAME_LENGTH = 128


def _set(form: LimitForm) -> bool:
    """Store the form's limit; False (with the error on the form) when the rate is not one."""
    name = str(form.name.data)
    try:
        per_second = parse_rate(str(form.rate.data))
    except ValueError as error:
        form.rate.errors = [*form.rate.errors, str(error)]
        return False
    set_limit(db.session(), name, per_second)
    flash('{0} = {1:g}/s; running processes follow within seconds.'.format(name, per_second), 'success')
    return True


class LimitsView(SecuredView):
    """``/admin/limits``: the token buckets of the pipeline (``notifier limits`` on the command line)."""

    needed_role = AdminRole.operator

    def __init__(self, channels: tuple[str, ...]) -> None:
        """``channels`` name the send limits to suggest."""
        super().__init__(name='Rate limits', endpoint='admin_limits', url='/admin/limits')
        self.known_names = (GENERATOR_PUBLISH, *(CHANNEL_SEND.format(channel) for channel in channels))

    @expose('/', methods=('GET', 'POST'))
    def index(self) -> ResponseReturnValue:
        """Every limit, and the form that sets one."""
        form = LimitForm()
        status = HTTPStatus.UNPROCESSABLE_ENTITY if request.method == 'POST' else HTTPStatus.OK
        if form.validate_on_submit() and _set(form):
            return redirect(url_for('.index'))
        limits = all_limits(db.session())
        return self.page('notifier_admin/limits.html', form=form, limits=limits, known_names=self.known_names), status

    @expose('/<limit_name>/remove/', methods=('POST',))
    def remove_view(self, limit_name: str) -> Response:
        """Remove a limit: not limited from then on."""
        if len(limit_name) <= MAX_NAME_LENGTH:
            set_limit(db.session(), limit_name, None)
        flash('{0} is not limited any more.'.format(limit_name), 'success')
        return redirect(url_for('.index'))
