"""Admin accounts: create them, check a password, record a login.

Passwords are kept only as werkzeug's salted scrypt hashes. A login for an
unknown address still checks a hash, so the answer takes as long as for a
known one and does not tell which addresses have accounts.
"""

import re
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from notifier.models.admin_account import ROLES, AdminAccount
from notifier.models.base import utcnow

MIN_PASSWORD_LENGTH: Final = 10
MAX_PASSWORD_LENGTH: Final = 200
_EMAIL: Final = re.compile(r'^[^@\s]+@[^@\s]+\.[^@\s]+$')
_UNKNOWN_ACCOUNT_HASH: Final = generate_password_hash('no such account: compare anyway')


class AccountError(ValueError):
    """An account cannot be created or changed as asked; the message says why."""


def normalized_email(email: str) -> str:
    """Addresses are compared trimmed and lower-cased."""
    return email.strip().lower()


def password_problem(password: str) -> str | None:
    """Why a password is refused, or ``None`` when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return 'the password needs at least {0} characters'.format(MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        return 'the password may have at most {0} characters'.format(MAX_PASSWORD_LENGTH)
    return None


def _check_new_account(address: str, password: str, role: str) -> None:
    if not _EMAIL.match(address):
        raise AccountError('{0!r} is not an email address'.format(address))
    if role not in ROLES:
        raise AccountError('the role must be one of {0}'.format(', '.join(ROLES)))
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)


def create_account(session: Session, email: str, password: str, role: str) -> AdminAccount:
    """Store a new account, or raise :class:`AccountError` with the reason."""
    address = normalized_email(email)
    _check_new_account(address, password, role)
    account = AdminAccount(email=address, password_hash=generate_password_hash(password), role=role)
    session.add(account)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise AccountError('an account for {0} exists already'.format(address)) from None
    return account


def find_account(session: Session, email: str) -> AdminAccount | None:
    """The account of an address, if any."""
    address = normalized_email(email)
    return session.scalar(select(AdminAccount).where(func.lower(AdminAccount.email) == address))


def authenticate(session: Session, email: str, password: str) -> AdminAccount | None:
    """The account when the password matches, else ``None``; a success is recorded as its last login."""
    account = find_account(session, email)
    if account is None:
        check_password_hash(_UNKNOWN_ACCOUNT_HASH, password)
        return None
    if not check_password_hash(account.password_hash, password):
        return None
    account.last_login_at = utcnow()
    session.commit()
    return account


def change_role(session: Session, account: AdminAccount, role: str) -> AdminAccount:
    """Give an account another role."""
    if role not in ROLES:
        raise AccountError('the role must be one of {0}'.format(', '.join(ROLES)))
    account.role = role
    session.commit()
    return account


def set_password(session: Session, account: AdminAccount, password: str) -> AdminAccount:
    """Replace an account's password."""
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    account.password_hash = generate_password_hash(password)
    session.commit()
    return account
