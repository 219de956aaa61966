"""Fixtures of the admin panel tests: the test app with ``/admin`` mounted, accounts, logged-in clients."""

import re
from collections.abc import Callable
from functools import partial

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from werkzeug.test import TestResponse

from notifier.admin import init_admin
from notifier.admin.accounts import create_account
from notifier.extensions import db
from notifier.models.admin_account import AdminAccount  # noqa: F401 - the model's table must be known

PASSWORD = 'correct horse battery'
ADMIN_TABLES = ('admin_accounts', 'users', 'user_segments')
_CSRF_INPUT = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')

LoginAs = Callable[[str], FlaskClient]


def csrf_token_of(response: TestResponse) -> str:
    """The CSRF token a page's forms carry."""
    found = _CSRF_INPUT.search(response.get_data(as_text=True))
    assert found, 'the page has no CSRF token'
    return found.group(1)


def log_in(client: FlaskClient, email: str, password: str = PASSWORD) -> TestResponse:
    """Log in through the login form, as a browser does."""
    token = csrf_token_of(client.get('/admin/login/'))
    return client.post('/admin/login/', data={'email': email, 'password': password, 'csrf_token': token})


def post_form(client: FlaskClient, page: str, url: str, form: dict[str, str]) -> TestResponse:
    """Post a form the way a browser does: with the CSRF token of the page it is on."""
    token = csrf_token_of(client.get(page))
    return client.post(url, data={**form, 'csrf_token': token})


@pytest.fixture
def admin_app(app: Flask, database_url: str) -> Flask:
    """The test app with the admin panel and no accounts."""
    if 'admin' not in app.extensions:  # until notifier/app.py mounts the panel itself
        init_admin(app)
    if not database_url.startswith('sqlite'):
        with app.app_context():
            db.session.execute(text('TRUNCATE {0} CASCADE'.format(', '.join(ADMIN_TABLES))))
            db.session.commit()
    with app.app_context():
        for role in ('manager', 'operator', 'admin'):
            create_account(db.session(), '{0}@cinema.example'.format(role), PASSWORD, role)
    return app


def _logged_in_client(flask_app: Flask, role: str) -> FlaskClient:
    client = flask_app.test_client()
    response = log_in(client, '{0}@cinema.example'.format(role))
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def login_as(admin_app: Flask) -> LoginAs:
    """A new client logged in with the account of a role (manager, operator or admin)."""

    return partial(_logged_in_client, admin_app)
