"""Who is logged in, what their role lets them do, and the CSRF check of every form.

Every admin view runs :func:`refusal` before its own code: an anonymous
visitor is sent to the login page, a form posted without a valid CSRF token
is refused, and a role below the view's is refused with the role it needs.
"""

from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from flask import redirect, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from werkzeug.wrappers import Response
from wtforms import ValidationError

from notifier.extensions import db
from notifier.models.admin_account import AdminAccount, role_allows

CSRF_HEADER: Final = 'X-CSRFToken'
CSRF_FIELD: Final = 'csrf_token'
SAFE_METHODS: Final = frozenset(('GET', 'HEAD', 'OPTIONS'))
LOGIN_ENDPOINT: Final = 'admin.login_view'
ADMIN_PREFIX: Final = '/admin'


@dataclass(frozen=True)
class AdminUser:
    """The logged-in account, as Flask-Login sees it (the model stays free of Flask)."""

    account_id: int
    email: str
    role: str

    @property
    def is_authenticated(self) -> bool:
        """Always: an anonymous visitor is Flask-Login's own object."""
        return True

    @property
    def is_active(self) -> bool:
        """Every stored account may log in."""
        return True

    @property
    def is_anonymous(self) -> bool:
        """Never."""
        return False

    def get_id(self) -> str:
        """What the session keeps."""
        return str(self.account_id)

    def may(self, needed_role: str) -> bool:
        """Whether this account's role covers ``needed_role``."""
        return role_allows(self.role, needed_role)


def load_admin_user(account_id: str) -> AdminUser | None:
    """Flask-Login's user loader: the account is read on every request, so a role change applies at once."""
    if not account_id.isdigit():
        return None
    account = db.session.get(AdminAccount, int(account_id))
    if account is None:
        return None
    return AdminUser(account_id=account.id, email=account.email, role=account.role)


def logged_in() -> bool:
    """Whether the request comes from a logged-in account."""
    return bool(current_user.is_authenticated)


def may(needed_role: str) -> bool:
    """Whether the logged-in account may act as ``needed_role``."""
    return logged_in() and bool(current_user.may(needed_role))


def check_csrf() -> None:
    """Raise :class:`CSRFError` unless an unsafe request carries this session's CSRF token."""
    if request.method in SAFE_METHODS:
        return
    token = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
    try:
        validate_csrf(token)
    except ValidationError as error:
        raise CSRFError(str(error.args[0]) if error.args else 'The CSRF token is invalid.') from None


def login_redirect() -> Response:
    """Send an anonymous visitor to the login page, remembering where they were going."""
    target = request.full_path.rstrip('?') if request.method == 'GET' else None
    return redirect(url_for(LOGIN_ENDPOINT, next=target))


def safe_next(target: str | None) -> str | None:
    """A place under ``/admin`` to return to after login; anything else (another site) is ignored."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith(ADMIN_PREFIX):
        return None
    return target.rstrip('?')
