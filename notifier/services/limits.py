"""Reading and setting the run-time rate limits (the ``rate_limits`` table)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifier.models import RateLimit


def set_limit(session: Session, name: str, per_second: float | None) -> None:
    """Set a limit (``None`` removes it: unlimited)."""
    existing = session.get(RateLimit, name)
    if per_second is None:
        if existing is not None:
            session.delete(existing)
    elif existing is None:
        session.add(RateLimit(name=name, per_second=per_second))
    else:
        existing.per_second = per_second
    session.commit()


def all_limits(session: Session) -> list[RateLimit]:
    """Every configured limit, by name."""
    return list(session.scalars(select(RateLimit).order_by(RateLimit.name)))
