"""Who reaches what under /admin: login, CSRF, roles, accounts."""

import pytest
from flask import Flask
from sqlalchemy import select

from notifier.cli.admins import admins_group
from notifier.extensions import db
from notifier.models import StoredTemplate
from notifier.models.admin_account import AdminAccount
from tests.admin.conftest import PASSWORD, LoginAs, csrf_token_of, log_in, post_form

ADMIN_PAGES = (
    '/admin/', '/admin/templates/', '/admin/templates/new/', '/admin/mailings/', '/admin/mailings/new/',
    '/admin/history/', '/admin/operations/', '/admin/limits/', '/admin/schedules/', '/admin/accounts/',
)


@pytest.mark.parametrize('page', ADMIN_PAGES)
def test_anonymous_visitors_are_sent_to_the_login_page(admin_app: Flask, page: str) -> None:
    answered = admin_app.test_client().get(page)

    assert answered.status_code == 302
    assert answered.headers['Location'].startswith('/admin/login/?next=')


def test_anonymous_posts_change_nothing(admin_app: Flask) -> None:
    client = admin_app.test_client()
    token = csrf_token_of(client.get('/admin/login/'))

    answered = client.post('/admin/templates/new/', data={
        'csrf_token': token, 'channel': 'email', 'name': 'sneaky', 'locale': 'ru', 'source': 'x',
    })

    assert answered.status_code == 302
    with admin_app.app_context():
        assert not db.session.scalars(select(StoredTemplate)).all()


def test_login_takes_the_visitor_where_they_were_going(admin_app: Flask) -> None:
    client = admin_app.test_client()
    client.get('/admin/history/')
    token = csrf_token_of(client.get('/admin/login/?next=/admin/history/'))

    answered = client.post('/admin/login/?next=/admin/history/', data={
        'email': 'Manager@Cinema.example', 'password': PASSWORD, 'csrf_token': token,
    })

    assert answered.headers['Location'] == '/admin/history/'
    assert 'manager@cinema.example' in client.get('/admin/history/').get_data(as_text=True)


def test_login_never_sends_the_visitor_to_another_site(admin_app: Flask) -> None:
    client = admin_app.test_client()
    token = csrf_token_of(client.get('/admin/login/'))

    answered = client.post('/admin/login/?next=https://evil.example/admin', data={
        'email': 'manager@cinema.example', 'password': PASSWORD, 'csrf_token': token,
    })

    assert answered.headers['Location'] == '/admin/'


def test_a_wrong_password_is_refused(admin_app: Flask) -> None:
    client = admin_app.test_client()

    answered = log_in(client, 'manager@cinema.example', 'not the password')

    assert answered.status_code == 401
    assert 'Wrong email or password.' in answered.get_data(as_text=True)
    assert client.get('/admin/').status_code == 302


def test_a_login_without_the_csrf_token_is_refused(admin_app: Flask) -> None:
    client = admin_app.test_client()
    client.get('/admin/login/')

    answered = client.post('/admin/login/', data={'email': 'manager@cinema.example', 'password': PASSWORD})

    assert answered.status_code == 400
    assert 'The CSRF token is missing.' in answered.get_data(as_text=True)
    assert client.get('/admin/').status_code == 302


def test_a_form_posted_without_the_csrf_token_is_refused(admin_app: Flask, login_as: LoginAs) -> None:
    client = login_as('manager')

    answered = client.post('/admin/templates/new/', data={
        'channel': 'email', 'name': 'promo', 'locale': 'ru',
        'source': '{% block subject %}Hi{% endblock %}{% block html %}<p>Hi</p>{% endblock %}',
    })

    assert answered.status_code == 400
    assert 'The CSRF token is missing.' in answered.get_data(as_text=True)
    with admin_app.app_context():
        assert not db.session.scalars(select(StoredTemplate)).all()


def test_a_csrf_token_of_another_session_is_refused(admin_app: Flask, login_as: LoginAs) -> None:
    victim = login_as('operator')
    attacker = login_as('manager')
    attacker_token = csrf_token_of(attacker.get('/admin/'))

    answered = victim.post('/admin/operations/purge/', data={'confirm': 'purge', 'csrf_token': attacker_token})

    assert answered.status_code == 400
    assert 'CSRF' in answered.get_data(as_text=True)


def test_logout_ends_the_session(admin_app: Flask, login_as: LoginAs) -> None:
    client = login_as('manager')

    answered = post_form(client, '/admin/', '/admin/logout/', {})

    assert answered.headers['Location'] == '/admin/login/'
    assert client.get('/admin/').status_code == 302


@pytest.mark.parametrize('page', ['/admin/operations/', '/admin/limits/', '/admin/schedules/', '/admin/accounts/'])
def test_a_manager_is_refused_on_operator_and_admin_pages(admin_app: Flask, login_as: LoginAs, page: str) -> None:
    answered = login_as('manager').get(page)

    assert answered.status_code == 403
    assert 'This page needs the' in answered.get_data(as_text=True)


def test_a_manager_cannot_purge_the_parking_lot(admin_app: Flask, login_as: LoginAs) -> None:
    client = login_as('manager')

    answered = post_form(client, '/admin/', '/admin/operations/purge/', {'confirm': 'purge'})

    assert answered.status_code == 403
    assert 'This page needs the operator role.' in answered.get_data(as_text=True)


def test_the_menu_shows_only_what_the_role_may_open(admin_app: Flask, login_as: LoginAs) -> None:
    manager_page = login_as('manager').get('/admin/').get_data(as_text=True)
    operator_page = login_as('operator').get('/admin/').get_data(as_text=True)

    assert 'href="/admin/templates/"' in manager_page
    assert 'href="/admin/mailings/"' in manager_page
    assert 'href="/admin/operations/"' not in manager_page
    assert 'href="/admin/limits/"' not in manager_page
    assert 'href="/admin/operations/"' in operator_page
    assert 'href="/admin/limits/"' in operator_page
    assert 'href="/admin/accounts/"' not in operator_page


def test_an_operator_is_refused_on_the_accounts_page(admin_app: Flask, login_as: LoginAs) -> None:
    assert login_as('operator').get('/admin/accounts/').status_code == 403


def test_an_admin_creates_an_account_that_can_log_in(admin_app: Flask, login_as: LoginAs) -> None:
    client = login_as('admin')

    answered = post_form(client, '/admin/accounts/', '/admin/accounts/', {
        'email': 'new.manager@cinema.example', 'role': 'operator', 'password': 'a long enough password',
    })

    assert answered.status_code == 302
    assert 'Created new.manager@cinema.example (operator).' in client.get('/admin/accounts/').get_data(as_text=True)
    newcomer = admin_app.test_client()
    assert log_in(newcomer, 'new.manager@cinema.example', 'a long enough password').status_code == 302
    assert newcomer.get('/admin/operations/').status_code != 403


def test_a_role_change_applies_to_the_open_session(admin_app: Flask, login_as: LoginAs) -> None:
    operator = login_as('operator')
    admin = login_as('admin')
    with admin_app.app_context():
        operator_id = db.session.scalar(select(AdminAccount.id).where(AdminAccount.email == 'operator@cinema.example'))

    post_form(admin, '/admin/accounts/', '/admin/accounts/{0}/role/'.format(operator_id), {'role': 'manager'})

    assert operator.get('/admin/schedules/').status_code == 403


def test_the_cli_creates_an_account_with_the_password_asked_twice(admin_app: Flask) -> None:
    runner = admin_app.test_cli_runner()

    typed = 's3cret-password\ns3cret-password\n'
    created = runner.invoke(admins_group, ['create', 'Ops@Cinema.example', '--role', 'operator'], input=typed)

    assert created.exit_code == 0, created.output
    assert 'created ops@cinema.example (operator)' in created.output
    assert log_in(admin_app.test_client(), 'ops@cinema.example', 's3cret-password').status_code == 302


def test_the_cli_reads_the_password_from_the_environment(admin_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('NOTIFIER_ADMIN_PASSWORD', 'from-the-environment')
    runner = admin_app.test_cli_runner()

    created = runner.invoke(admins_group, ['create', 'script@cinema.example', '--role', 'admin'])

    assert created.exit_code == 0, created.output
    assert log_in(admin_app.test_client(), 'script@cinema.example', 'from-the-environment').status_code == 302


def test_the_cli_refuses_a_short_password_and_a_second_account(admin_app: Flask) -> None:
    runner = admin_app.test_cli_runner()

    short = runner.invoke(admins_group, ['create', 'x@cinema.example'], input='short\nshort\n')
    again = runner.invoke(admins_group, ['create', 'manager@cinema.example'], input='long enough pw\nlong enough pw\n')

    assert short.exit_code == 1
    assert 'at least 10 characters' in short.output
    assert again.exit_code == 1
    assert 'an account for manager@cinema.example exists already' in again.output
