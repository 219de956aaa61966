"""Mailings: plan one (a draft), dry-run it, launch it after a confirmation, watch it go; pause, resume, cancel.

Saving or editing a draft never sends it. The launch is a separate POST from
the confirmation page, which carries the version of the draft it showed; the
service launches a draft once (``notifier/services/mailing_drafts.py``).
"""

from http import HTTPStatus
from typing import Final

from flask import abort, flash, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_admin import expose
from werkzeug.wrappers import Response

from notifier.admin import mailing_progress, mailing_support
from notifier.admin.base_view import SecuredView
from notifier.admin.mailing_forms import MailingForm, PlanError, fill_form, plan_from_form
from notifier.admin.queues import publish_rows
from notifier.extensions import db
from notifier.models import Mailing, Notification
from notifier.models.base import utcnow
from notifier.services import mailing_drafts, mailings, recurring
from notifier.services.mailing_plans import DRAFT, plan_of
from notifier.settings import settings_of

GET: Final = 'GET'
POST: Final = 'POST'
ERROR: Final = 'error'
SUCCESS: Final = 'success'
SAVED: Final = 'Saved the draft. Nothing is sent until you launch it.'
EDITOR: Final = 'notifier_admin/mailing_edit.html'
MAILING_PAGE: Final = '.mailing_view'
#: The confirmation page's button: a launch without it was not confirmed.
CONFIRM_VALUE: Final = 'launch'
MAX_ID_LENGTH: Final = 36


def _found(notification_id: str) -> tuple[Notification, Mailing]:
    if len(notification_id) > MAX_ID_LENGTH or '\x00' in notification_id:
        abort(HTTPStatus.NOT_FOUND)  # not an id (and PostgreSQL refuses a NUL in a query)
    mailing = db.session.get(Mailing, notification_id)
    notification = db.session.get(Notification, notification_id)
    if mailing is None or notification is None:
        abort(HTTPStatus.NOT_FOUND)
    return notification, mailing


def _to_mailing(notification_id: str, message: str, category: str = ERROR) -> Response:
    flash(message, category)
    return redirect(url_for(MAILING_PAGE, notification_id=notification_id))


class MailingsView(SecuredView):
    """``/admin/mailings``: managers plan, launch and watch mailings here."""

    def __init__(self, channels: tuple[str, ...]) -> None:
        """``channels`` are the installed channel plugins a mailing can go out on."""
        super().__init__(name='Mailings', endpoint='admin_mailings', url='/admin/mailings')
        self.channels = channels

    @expose('/')
    def index(self) -> ResponseReturnValue:
        """Drafts and mailings, newest first, with how far each is."""
        return self.page('notifier_admin/mailings.html', rows=mailing_progress.mailing_rows())

    @expose('/new/', methods=(GET, POST))
    def create_view(self) -> ResponseReturnValue:
        """A new draft; saving it leads to its dry run."""
        form = self._form()
        if not form.validate_on_submit():
            return self._editor(form, None)
        try:
            plan = plan_from_form(form)
        except PlanError as error:
            return self._refuse(form, None, error)
        mailing = mailing_drafts.save_draft(db.session(), plan)
        flash(SAVED, SUCCESS)
        return redirect(url_for('.dry_run_view', notification_id=mailing.notification_id))

    @expose('/<notification_id>/edit/', methods=(GET, POST))
    def edit_view(self, notification_id: str) -> ResponseReturnValue:
        """Change a draft (a launched mailing cannot be edited)."""
        notification, mailing = _found(notification_id)
        if mailing.state != DRAFT:
            return _to_mailing(notification_id, 'The mailing was launched: it can no longer be edited.')
        stored = plan_of(notification, mailing)
        form = self._form()
        if request.method == GET:
            fill_form(form, stored)
        if not form.validate_on_submit():
            return self._editor(form, mailing)
        previous_user_ids = stored.audience.get('user_ids')
        try:
            mailing_drafts.update_draft(db.session(), notification_id, plan_from_form(form, previous_user_ids))
        except PlanError as error:
            return self._refuse(form, mailing, error)
        except mailings.MailingStateError as error:
            return _to_mailing(notification_id, str(error))
        flash(SAVED, SUCCESS)
        return redirect(url_for('.dry_run_view', notification_id=notification_id))

    @expose('/<notification_id>/dry-run/')
    def dry_run_view(self, notification_id: str) -> ResponseReturnValue:
        """Whom the draft reaches, whom it skips and why, and sample messages."""
        return self._dry_run_page('notifier_admin/mailing_dry_run.html', notification_id)

    @expose('/<notification_id>/launch/', methods=(GET, POST))
    def launch_view(self, notification_id: str) -> ResponseReturnValue:
        """GET: the confirmation page. POST (from that page): launch, once."""
        if request.method == GET:
            return self._dry_run_page('notifier_admin/mailing_confirm.html', notification_id)
        confirmed_version = request.form.get('confirmed_version', '')
        if request.form.get('confirm') != CONFIRM_VALUE or not confirmed_version:
            flash('Confirm the launch on this page first.', ERROR)
            return redirect(url_for('.launch_view', notification_id=notification_id))
        try:
            launched = mailing_drafts.launch(db.session(), notification_id, confirmed_version, utcnow())
        except mailing_drafts.DraftChangedError as error:
            flash(str(error), ERROR)
            return redirect(url_for('.launch_view', notification_id=notification_id))
        except mailings.MailingStateError as error:
            return _to_mailing(notification_id, str(error))
        publish_rows(settings_of(), launched.outbox_ids)
        return _to_mailing(notification_id, 'Launched.', SUCCESS)

    @expose('/<notification_id>/')
    def mailing_view(self, notification_id: str) -> ResponseReturnValue:
        """A mailing's live progress; a recurring one's schedule and the mailings it made."""
        notification, mailing = _found(notification_id)
        if mailing.state == DRAFT:
            return redirect(url_for('.dry_run_view', notification_id=notification_id))
        plan = plan_of(notification, mailing)
        schedule = recurring.recurring_schedule(db.session(), notification_id)
        fired = recurring.fired_mailings(db.session(), schedule) if schedule else []
        report = mailing_progress.progress_of(mailing, len(plan.channels))
        return self.page(
            'notifier_admin/mailing_progress.html', notification=notification, mailing=mailing, plan=plan,
            report=report, schedule=schedule, fired=fired,
        )

    @expose('/<notification_id>/progress.json')
    def progress_view(self, notification_id: str) -> ResponseReturnValue:
        """What the progress page polls."""
        notification, mailing = _found(notification_id)
        return jsonify(mailing_progress.progress_of(mailing, len(notification.channels)))

    @expose('/<notification_id>/change/<action>/', methods=(POST,))
    def change_view(self, notification_id: str, action: str) -> Response:
        """Pause, resume or cancel."""
        if action not in recurring.ONE_OFF_CHANGES:
            abort(HTTPStatus.NOT_FOUND)
        _notification, mailing = _found(notification_id)
        try:
            outbox_ids = recurring.change_mailing(db.session(), mailing, action, utcnow())
        except mailings.MailingStateError as error:
            return _to_mailing(notification_id, str(error))
        publish_rows(settings_of(), outbox_ids)
        return _to_mailing(notification_id, 'The mailing is {0}.'.format(mailing.state), SUCCESS)

    @expose('/<notification_id>/delete/', methods=(POST,))
    def delete_view(self, notification_id: str) -> Response:
        """Delete a draft."""
        if not mailing_drafts.delete_draft(db.session(), notification_id):
            return _to_mailing(notification_id, 'Only a draft can be deleted.')
        flash('Deleted the draft.', SUCCESS)
        return redirect(url_for('.index'))

    def _dry_run_page(self, template: str, notification_id: str) -> ResponseReturnValue:
        notification, mailing = _found(notification_id)
        if mailing.state != DRAFT:
            return redirect(url_for(MAILING_PAGE, notification_id=notification_id))
        plan = plan_of(notification, mailing)
        moment = plan.timing.send_at or utcnow()
        verdict, failure = mailing_support.draft_dry_run(settings_of(), notification, mailing, moment)
        if failure is not None:
            flash(failure, ERROR)
        return self.page(
            template, notification=notification, mailing=mailing, plan=plan, dry_run=verdict,
            version=mailing_drafts.draft_version(mailing), confirm_value=CONFIRM_VALUE,
        )

    def _form(self) -> MailingForm:
        form = MailingForm()
        form.channels.choices = list(self.channels)  # type: ignore[arg-type] # the stubs predate plain-value choices
        return form

    def _editor(self, form: MailingForm, mailing: Mailing | None) -> str:
        settings = settings_of()
        return self.page(EDITOR, form=form, mailing=mailing, template_names=mailing_support.template_names(settings))

    def _refuse(self, form: MailingForm, mailing: Mailing | None, error: PlanError) -> ResponseReturnValue:
        form_field = getattr(form, error.field_name)
        form_field.errors = [*form_field.errors, str(error)]
        return self._editor(form, mailing), HTTPStatus.UNPROCESSABLE_ENTITY
