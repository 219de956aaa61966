"""Versions of stored templates: each save is a new version, and the newest one is used.

A save names the version it was edited from; if someone saved a newer one
meanwhile, the save is refused instead of silently overwriting their work.
"""

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from notifier.models import StoredTemplate


class TemplateConflictError(ValueError):
    """Another version was saved since the one the editor started from."""


def versions_of(session: Session, channel: str, name: str, locale: str) -> Sequence[StoredTemplate]:
    """Every stored version of one template, newest first."""
    return session.scalars(
        select(StoredTemplate)
        .where(StoredTemplate.channel == channel, StoredTemplate.name == name, StoredTemplate.locale == locale)
        .order_by(StoredTemplate.version.desc()),
    ).all()


def newest_version(session: Session, channel: str, name: str, locale: str) -> StoredTemplate | None:
    """The version the pipeline renders, if the template is stored at all."""
    found = versions_of(session, channel, name, locale)
    return found[0] if found else None


def newest_versions(session: Session) -> Sequence[StoredTemplate]:
    """The newest version of every stored template, by channel, name and locale."""
    newest = (
        select(
            StoredTemplate.channel,
            StoredTemplate.name,
            StoredTemplate.locale,
            func.max(StoredTemplate.version).label('version'),
        )
        .group_by(StoredTemplate.channel, StoredTemplate.name, StoredTemplate.locale)
        .subquery()
    )
    return session.scalars(
        select(StoredTemplate)
        .join(newest, (StoredTemplate.channel == newest.c.channel) & (StoredTemplate.name == newest.c.name) & (
            StoredTemplate.locale == newest.c.locale
        ) & (StoredTemplate.version == newest.c.version))
        .order_by(StoredTemplate.channel, StoredTemplate.name, StoredTemplate.locale),
    ).all()


def save_version(
    session: Session, template_key: tuple[str, str, str], source: str, base_version: int,
) -> StoredTemplate:
    """Store ``source`` as the version after ``base_version`` (0 for a new template).

    ``template_key`` is ``(channel, name, locale)``. Raises :class:`TemplateConflictError`
    when ``base_version`` is no longer the newest.
    """
    channel, name, locale = template_key
    current = newest_version(session, channel, name, locale)
    current_version = current.version if current else 0
    if current_version != base_version:
        raise TemplateConflictError(
            'version {0} was saved meanwhile; your text is kept below: compare and save again'.format(
                current_version,
            ),
        )
    stored = StoredTemplate(
        channel=channel, name=name, locale=locale, version=base_version + 1, source=source,
    )
    session.add(stored)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise TemplateConflictError(
            'version {0} was saved meanwhile; compare and save again'.format(base_version + 1),
        ) from None
    return stored
