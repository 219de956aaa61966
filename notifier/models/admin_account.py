"""The accounts of the admin panel: managers, operators and administrators."""

import datetime as dt
from typing import Final

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from notifier.models.base import Base, UTCDateTime, utcnow


class AdminRole:
    """What an account may do; each role may do everything the roles before it may."""

    manager: Final = 'manager'
    operator: Final = 'operator'
    admin: Final = 'admin'


#: The roles from the least to the most powerful.
ROLES: Final = (AdminRole.manager, AdminRole.operator, AdminRole.admin)


def role_allows(role: str, needed: str) -> bool:
    """Whether an account with ``role`` may do what ``needed`` may."""
    if role not in ROLES or needed not in ROLES:
        return False
    return ROLES.index(role) >= ROLES.index(needed)


class AdminAccount(Base):
    """One person who logs into ``/admin``; the password is stored only as a salted hash."""

    __tablename__ = 'admin_accounts'

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=AdminRole.manager)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
