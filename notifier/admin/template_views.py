"""Templates: list, create, edit (each save is a new version), versions, and the live preview."""

from dataclasses import dataclass
from http import HTTPStatus

from flask import abort, flash, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_admin import expose

from notifier.admin.base_view import SecuredView
from notifier.admin.drafts import Draft, file_source, render_draft
from notifier.admin.forms import TemplateForm
from notifier.admin.previews import PreviewFieldsError, preview_fields
from notifier.admin.template_files import file_templates
from notifier.extensions import db
from notifier.services.templates import (
    TemplateConflictError,
    newest_version,
    newest_versions,
    save_version,
    versions_of,
)
from notifier.settings import settings_of
from notifier.templating.store import RenderedContent, TemplateError

EDITOR = 'notifier_admin/template_edit.html'
GET = 'GET'


@dataclass(frozen=True)
class PreviewOutcome:
    """A render of the editor's draft, or why it failed."""

    rendered: RenderedContent | None
    error: str | None


def _draft_of(form: TemplateForm) -> Draft:
    return Draft(
        channel=form.channel.data or '',
        name=form.name.data or '',
        locale=form.locale.data or '',
        source=form.source.data or '',
    )


def _preview(draft: Draft, raw_sample: str, user_id: str | None) -> PreviewOutcome:
    settings = settings_of()
    try:
        fields = preview_fields(settings, raw_sample, user_id or None)
        rendered = render_draft(settings, draft, fields)
    except (PreviewFieldsError, TemplateError) as error:
        return PreviewOutcome(rendered=None, error=str(error))
    return PreviewOutcome(rendered=rendered, error=None)


def _fill_key(form: TemplateForm, template_key: tuple[str, str, str]) -> None:
    form.channel.data = template_key[0]
    form.name.data = template_key[1]
    form.locale.data = template_key[2]


def _requested_key() -> tuple[str, str, str]:
    """The template a ``new`` link asks to override: ``?channel=&name=&locale=``."""
    channel = request.args.get('channel', '')
    return channel, request.args.get('name', ''), request.args.get('locale', '')


def _version_number(raw: str | None) -> int:
    """The version the editor started from; anything but a number means a new template."""
    return int(raw) if raw and raw.isdigit() else 0


class TemplatesView(SecuredView):
    """``/admin/templates``: managers write and preview templates here."""

    def __init__(self, channels: tuple[str, ...]) -> None:
        """``channels`` are the installed channel plugins a template can be for."""
        super().__init__(name='Templates', endpoint='admin_templates', url='/admin/templates')
        self.channels = channels

    @expose('/')
    def index(self) -> ResponseReturnValue:
        """Stored templates (newest versions) and the files they may override."""
        stored = newest_versions(db.session())
        stored_keys = {(row.channel, row.name, row.locale) for row in stored}
        files = [key for key in file_templates(settings_of()) if key not in stored_keys]
        return self.page('notifier_admin/templates.html', stored=stored, files=files)

    @expose('/new/', methods=(GET, 'POST'))
    def create_view(self) -> ResponseReturnValue:
        """A new template, or a stored override of a file (``?channel=&name=&locale=``)."""
        form = self._form()
        overridden = _requested_key()
        if request.method == GET and all(overridden):
            _fill_key(form, overridden)
            form.source.data = file_source(settings_of(), *overridden)
        return self._edit(form, is_new=True)

    @expose('/edit/<channel>/<template_name>/<locale>/', methods=(GET, 'POST'))
    def edit_view(self, channel: str, template_name: str, locale: str) -> ResponseReturnValue:
        """Edit the newest version; saving stores the next one."""
        current = newest_version(db.session(), channel, template_name, locale)
        if current is None:
            abort(HTTPStatus.NOT_FOUND)
        form = self._form()
        if request.method == GET:
            form.source.data = current.source
            form.base_version.data = str(current.version)
        _fill_key(form, (channel, template_name, locale))
        return self._edit(form, is_new=False)

    @expose('/versions/<channel>/<template_name>/<locale>/')
    def versions_view(self, channel: str, template_name: str, locale: str) -> ResponseReturnValue:
        """Every version of one template, newest first."""
        versions = versions_of(db.session(), channel, template_name, locale)
        if not versions:
            abort(HTTPStatus.NOT_FOUND)
        return self.page('notifier_admin/template_versions.html', versions=versions)

    @expose('/preview/', methods=('POST',))
    def preview_view(self) -> ResponseReturnValue:
        """The live preview: the editor posts its draft as JSON and gets subject, HTML and text, or the error."""
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict):
            return jsonify(error='send the draft as a JSON object'), HTTPStatus.BAD_REQUEST
        draft = Draft(
            channel=str(payload.get('channel', '')),
            name=str(payload.get('name') or 'draft'),
            locale=str(payload.get('locale') or settings_of().default_locale),
            source=str(payload.get('source', '')),
        )
        sample = str(payload.get('sample_fields', ''))
        outcome = _preview(draft, sample, str(payload.get('user_id') or ''))
        if outcome.rendered is None:
            return jsonify(error=outcome.error)
        rendered = outcome.rendered
        return jsonify(error=None, subject=rendered.subject, html=rendered.html, text=rendered.text)

    def _form(self) -> TemplateForm:
        form = TemplateForm()
        form.channel.choices = list(self.channels)  # type: ignore[arg-type] # the stubs predate plain-value choices
        return form

    def _edit(self, form: TemplateForm, is_new: bool) -> ResponseReturnValue:
        if not form.validate_on_submit():
            return self._editor(form, is_new, preview=None)
        draft = _draft_of(form)
        preview = _preview(draft, form.sample_fields.data or '', form.user_id.data)
        if preview.error is not None:
            return self._editor(form, is_new, preview), HTTPStatus.UNPROCESSABLE_ENTITY
        template_key = (draft.channel, draft.name, draft.locale)
        try:
            stored = save_version(db.session(), template_key, draft.source, _version_number(form.base_version.data))
        except TemplateConflictError as error:
            conflict = PreviewOutcome(rendered=preview.rendered, error=str(error))
            return self._editor(form, is_new, conflict), HTTPStatus.CONFLICT
        flash('Saved {0} as version {1}.'.format(draft.path, stored.version), 'success')
        return redirect(url_for('.edit_view', channel=draft.channel, template_name=draft.name, locale=draft.locale))

    def _editor(self, form: TemplateForm, is_new: bool, preview: PreviewOutcome | None) -> str:
        return self.page(EDITOR, form=form, is_new=is_new, preview=preview)
