"""Templates stored in the database (the ``templates`` table), and the store that uses them."""

import datetime as dt

from sqlalchemy import select

from notifier.extensions import db
from notifier.models import StoredTemplate
from notifier.paths import templates_dir
from notifier.settings import Settings
from notifier.templating.links import link_filters
from notifier.templating.store import AS_OF, TemplateStore

_PATH_PARTS = 3


def stored_source(path: str) -> str | None:
    """The newest stored version of ``<channel>/<name>.<locale>.html[@moment]``, if any.

    With a moment, the newest version saved up to then (what a running mailing started with).
    Call it inside an application context (the pipeline's stages are).
    """
    store_name, _, as_of = path.partition(AS_OF)
    channel, _, file_name = store_name.partition('/')
    parts = file_name.rsplit('.', 2)
    if len(parts) != _PATH_PARTS:
        return None
    query = select(StoredTemplate.source).where(
        StoredTemplate.channel == channel,
        StoredTemplate.name == parts[0],
        StoredTemplate.locale == parts[1],
    )
    if as_of:
        query = query.where(StoredTemplate.created_at <= dt.datetime.fromisoformat(as_of))
    return db.session.scalar(query.order_by(StoredTemplate.version.desc()).limit(1))


def template_store(settings: Settings) -> TemplateStore:
    """The template store of a process: files under ``templates/``, overridden by the database."""
    return TemplateStore(
        templates_dir(settings.templates_dir), settings.default_locale, stored_source, link_filters(settings),
    )
