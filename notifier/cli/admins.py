"""``notifier admins``: the accounts of the admin panel."""

import os

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from notifier.admin.accounts import AccountError, create_account, find_account, set_password
from notifier.extensions import db
from notifier.models.admin_account import ROLES, AdminAccount, AdminRole

PASSWORD_VARIABLE = 'NOTIFIER_ADMIN_PASSWORD'


def _password() -> str:
    from_environment = os.environ.get(PASSWORD_VARIABLE)
    if from_environment:
        return from_environment
    password: str = click.prompt('Password', hide_input=True, confirmation_prompt='Repeat the password')
    return password


@click.group('admins')
def admins_group() -> None:
    """Accounts of the admin panel (/admin)."""


@admins_group.command('create')
@click.argument('email')
@click.option('--role', type=click.Choice(ROLES), default=AdminRole.manager, show_default=True)
@with_appcontext
def admins_create(email: str, role: str) -> None:
    """Create an account; the password is asked twice, or read from NOTIFIER_ADMIN_PASSWORD."""
    try:
        account = create_account(db.session(), email, _password(), role)
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo('created {0} ({1})'.format(account.email, account.role))


@admins_group.command('set-password')
@click.argument('email')
@with_appcontext
def admins_set_password(email: str) -> None:
    """Replace an account's password (asked twice, or NOTIFIER_ADMIN_PASSWORD)."""
    account = find_account(db.session(), email)
    if account is None:
        raise click.ClickException('no account for {0}'.format(email))
    try:
        set_password(db.session(), account, _password())
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo('changed the password of {0}'.format(account.email))


@admins_group.command('list')
@with_appcontext
def admins_list() -> None:
    """Every account: email, role, last login."""
    accounts = db.session.scalars(select(AdminAccount).order_by(AdminAccount.email)).all()
    if not accounts:
        click.echo('no accounts; create one with: notifier admins create EMAIL --role admin')
    for account in accounts:
        last_login = account.last_login_at.isoformat() if account.last_login_at else 'never'
        click.echo('{0:<40} {1:<9} last login: {2}'.format(account.email, account.role, last_login))
