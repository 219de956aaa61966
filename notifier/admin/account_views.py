"""Accounts (admin role): who may log in, and with which role."""

from http import HTTPStatus

from flask import abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from notifier.admin.accounts import AccountError, change_role, create_account
from notifier.admin.base_view import SecuredView
from notifier.admin.forms import AccountForm
from notifier.extensions import db
from notifier.models.admin_account import ROLES, AdminAccount, AdminRole


def _submitted(form: AccountForm) -> tuple[str, str, str]:
    email = str(form.email.data)
    return email, str(form.password.data), str(form.role.data)


class AccountsView(SecuredView):
    """``/admin/accounts``: create accounts, change roles, remove accounts."""

    needed_role = AdminRole.admin

    def __init__(self) -> None:
        """Registered under ``/admin/accounts``."""
        super().__init__(name='Accounts', endpoint='admin_accounts', url='/admin/accounts')

    @expose('/', methods=('GET', 'POST'))
    def index(self) -> ResponseReturnValue:
        """The accounts, and the form that adds one."""
        form = AccountForm()
        status = HTTPStatus.OK
        if form.validate_on_submit():
            try:
                created = create_account(db.session(), *_submitted(form))
            except AccountError as error:
                flash(str(error), 'error')
                status = HTTPStatus.UNPROCESSABLE_ENTITY
            else:
                flash('Created {0} ({1}).'.format(created.email, created.role), 'success')
                return redirect(url_for('.index'))
        accounts = db.session.scalars(select(AdminAccount).order_by(AdminAccount.email)).all()
        return self.page('notifier_admin/accounts.html', form=form, accounts=accounts, roles=ROLES), status

    @expose('/<int:account_id>/role/', methods=('POST',))
    def role_view(self, account_id: int) -> Response:
        """Give an account another role (not your own: ask another admin)."""
        account = self._other_account(account_id)
        try:
            change_role(db.session(), account, request.form.get('role', ''))
        except AccountError as error:
            flash(str(error), 'error')
        else:
            flash('{0} is now {1}.'.format(account.email, account.role), 'success')
        return redirect(url_for('.index'))

    @expose('/<int:account_id>/delete/', methods=('POST',))
    def delete_view(self, account_id: int) -> Response:
        """Remove an account; its sessions end with it."""
        account = self._other_account(account_id)
        db.session.delete(account)
        db.session.commit()
        flash('Removed {0}.'.format(account.email), 'success')
        return redirect(url_for('.index'))

    def _other_account(self, account_id: int) -> AdminAccount:
        if account_id == current_user.account_id:
            abort(HTTPStatus.FORBIDDEN, 'change your own account through another admin')
        account = db.session.get(AdminAccount, account_id)
        if account is None:
            abort(HTTPStatus.NOT_FOUND)
        return account
