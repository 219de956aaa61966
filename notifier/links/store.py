"""Short links in the database: made once per delivery and target, resolved, clicked, counted."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import distinct, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from notifier.links.codes import new_code
from notifier.models.short_link import LinkClick, ShortLink

#: A code collision needs 2**96 bad luck; a second fresh code settles it anyway.
CODE_ATTEMPTS: Final = 3


@dataclass(frozen=True)
class TargetClicks:
    """Clicks on the links of one notification to one target."""

    target: str
    clicks: int
    clicked_deliveries: int


def shorten(
    session: Session,
    target: str,
    delivery_id: str,
    notification_id: str | None,
    expires_at: dt.datetime | None,
) -> ShortLink:
    """The delivery's link to ``target``: the one made before (a re-rendered delivery), or a new one."""
    for _ in range(CODE_ATTEMPTS):
        existing = session.scalars(
            select(ShortLink).where(ShortLink.delivery_id == delivery_id, ShortLink.target == target).limit(1),
        ).first()
        if existing is not None:
            return existing
        link = ShortLink(
            code=new_code(),
            target=target,
            delivery_id=delivery_id,
            notification_id=notification_id,
            expires_at=expires_at,
        )
        session.add(link)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            continue
        return link
    raise RuntimeError('could not store a short link after {0} attempts'.format(CODE_ATTEMPTS))


def resolve(session: Session, code: str, now: dt.datetime) -> ShortLink | None:
    """The live link of ``code``; ``None`` when there is none or it expired."""
    link = session.scalars(select(ShortLink).where(ShortLink.code == code)).first()
    if link is None or (link.expires_at is not None and link.expires_at <= now):
        return None
    return link


def record_click(session: Session, link: ShortLink, now: dt.datetime) -> None:
    """One click: when, and on which delivery's link (nothing about who)."""
    session.add(LinkClick(short_link_id=link.id, clicked_at=now, delivery_id=link.delivery_id))
    session.commit()


def clicks_by_target(session: Session, notification_id: str) -> Sequence[TargetClicks]:
    """Per target of the notification's links: clicks, and how many deliveries were clicked at least once."""
    rows = session.execute(
        select(
            ShortLink.target,
            func.count(LinkClick.id),
            func.count(distinct(LinkClick.delivery_id)),
        )
        .join(LinkClick, LinkClick.short_link_id == ShortLink.id, isouter=True)
        .where(ShortLink.notification_id == notification_id)
        .group_by(ShortLink.target)
        .order_by(ShortLink.target),
    ).all()
    return [TargetClicks(target, clicks, clicked) for target, clicks, clicked in rows]
