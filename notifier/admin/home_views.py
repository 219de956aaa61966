"""The panel's home page, login and logout."""

from http import HTTPStatus

from flask import flash, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_admin import AdminIndexView, expose
from flask_login import login_user, logout_user

from notifier.admin.accounts import authenticate
from notifier.admin.base_view import SecuredView
from notifier.admin.forms import LoginForm
from notifier.admin.security import AdminUser, logged_in, safe_next
from notifier.extensions import db


class HomeView(SecuredView, AdminIndexView):
    """``/admin``: what the logged-in account can do; ``/admin/login`` and ``/admin/logout``."""

    public_views = frozenset(('login_view',))

    @expose('/')
    def index(self) -> ResponseReturnValue:
        """The home page."""
        return self.page('notifier_admin/home.html')

    @expose('/login/', methods=('GET', 'POST'))
    def login_view(self) -> ResponseReturnValue:
        """Log in with email and password."""
        if logged_in():
            return redirect(url_for('admin.index'))
        form = LoginForm()
        if not form.validate_on_submit():
            return self.page('notifier_admin/login.html', form=form)
        email, password = str(form.email.data), str(form.password.data)
        account = authenticate(db.session(), email, password)
        if account is None:
            flash('Wrong email or password.', 'error')
            return self.page('notifier_admin/login.html', form=form), HTTPStatus.UNAUTHORIZED
        target = safe_next(request.args.get('next'))
        session.clear()  # a fresh session (and CSRF token) for the logged-in account
        login_user(AdminUser(account_id=account.id, email=account.email, role=account.role))
        return redirect(target or url_for('admin.index'))

    @expose('/logout/', methods=('POST',))
    def logout_view(self) -> ResponseReturnValue:
        """Log out (a POST with the CSRF token, so another site cannot log you out)."""
        logout_user()
        session.clear()
        return redirect(url_for('admin.login_view'))
