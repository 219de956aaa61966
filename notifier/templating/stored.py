"""Templates stored in the database (the ``templates`` table), and the store that uses them."""

from sqlalchemy import select

from notifier.extensions import db
from notifier.models import StoredTemplate
from notifier.paths import templates_dir
from notifier.settings import Settings
from notifier.templating.links import link_filters
from notifier.templating.store import TemplateStore

_PATH_PARTS = 3


def stored_source(path: str) -> str | None:
    """The newest stored version of ``<channel>/<name>.<locale>.html``, if any.

    Call it inside an application context (the pipeline's stages are).
    """
    channel, _, file_name = path.partition('/')
    parts = file_name.rsplit('.', 2)
    if len(parts) != _PATH_PARTS:
        return None
    name, locale, _extension = parts
    return db.session.scalar(
        select(StoredTemplate.source)
        .where(
            StoredTemplate.channel == channel,
            StoredTemplate.name == name,
            StoredTemplate.locale == locale,
        )
        .order_by(StoredTemplate.version.desc())
        .limit(1),
    )


def template_store(settings: Settings) -> TemplateStore:
    """The template store of a process: files under ``templates/``, overridden by the database."""
    return TemplateStore(
        templates_dir(settings.templates_dir), settings.default_locale, stored_source, link_filters(settings),
    )
