"""The base of every admin page: login required, CSRF checked, role enforced."""

from http import HTTPStatus
from typing import Any, ClassVar

from flask.typing import ResponseReturnValue
from flask_admin import BaseView
from flask_wtf.csrf import CSRFError

from notifier.admin.security import check_csrf, logged_in, login_redirect, may
from notifier.models.admin_account import AdminRole

REFUSED_TEMPLATE = 'notifier_admin/refused.html'


class SecuredView(BaseView):
    """A Flask-Admin view that only accounts with ``needed_role`` (or above) reach.

    ``public_views`` names the view methods an anonymous visitor may call (the login page).
    """

    needed_role: ClassVar[str] = AdminRole.manager
    public_views: ClassVar[frozenset[str]] = frozenset()

    def is_accessible(self) -> bool:
        """Flask-Admin shows a view in the menu only when this holds."""
        return may(self.needed_role)

    def page(self, template: str, **context: Any) -> str:
        """Render one of the panel's pages inside Flask-Admin's layout."""
        return str(self.render(template, **context))

    def _handle_view(self, name: str, **kwargs: Any) -> ResponseReturnValue | None:
        public = name in self.public_views
        if not public and not logged_in():
            return login_redirect()
        try:
            check_csrf()
        except CSRFError as error:
            reason = '{0} Reload the page and send the form again.'.format(error.description)
            return self.page(REFUSED_TEMPLATE, reason=reason), HTTPStatus.BAD_REQUEST
        if not public and not may(self.needed_role):
            reason = 'This page needs the {0} role.'.format(self.needed_role)
            return self.page(REFUSED_TEMPLATE, reason=reason), HTTPStatus.FORBIDDEN
        return None
