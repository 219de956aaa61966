"""The operator's rate limits and circuit breaker states; a manager is refused on both."""

import datetime as dt

from flask import Flask
from sqlalchemy import select

from notifier.extensions import db
from notifier.models import BreakerPhase, BreakerState, RateLimit
from tests.admin.conftest import LoginAs, post_form


def _limits(flask_app: Flask) -> dict[str, float]:
    with flask_app.app_context():
        return {limit.name: limit.per_second for limit in db.session.scalars(select(RateLimit))}


def test_an_operator_sets_changes_and_removes_a_rate_limit(admin_app: Flask, login_as: LoginAs) -> None:
    client = login_as('operator')

    post_form(client, '/admin/limits/', '/admin/limits/', {'name': 'generator.publish', 'rate': '500/s'})
    post_form(client, '/admin/limits/', '/admin/limits/', {'name': 'channel.email.send', 'rate': '30/m'})
    changed = post_form(client, '/admin/limits/', '/admin/limits/', {'name': 'generator.publish', 'rate': '7200/h'})
    page = client.get('/admin/limits/').get_data(as_text=True)

    assert changed.status_code == 302
    assert 'generator.publish = 2/s; running processes follow within seconds.' in page
    assert '<td class="limit-name">channel.email.send</td>' in page
    assert '<td class="limit-rate">0.5/s</td>' in page
    assert _limits(admin_app) == {'generator.publish': 2.0, 'channel.email.send': 0.5}

    post_form(client, '/admin/limits/', '/admin/limits/channel.email.send/remove/', {})

    assert 'channel.email.send is not limited any more.' in client.get('/admin/limits/').get_data(as_text=True)
    assert _limits(admin_app) == {'generator.publish': 2.0}


def test_a_rate_that_is_not_one_is_refused_with_the_reason(admin_app: Flask, login_as: LoginAs) -> None:
    client = login_as('operator')

    bad_rate = post_form(client, '/admin/limits/', '/admin/limits/', {'name': 'generator.publish', 'rate': 'fast'})
    bad_name = post_form(client, '/admin/limits/', '/admin/limits/', {'name': 'Generator Publish', 'rate': '5/s'})

    assert bad_rate.status_code == 422
    assert "is not a rate like 500/s, 30/m or 7200/h" in bad_rate.get_data(as_text=True)
    assert bad_name.status_code == 422
    assert 'a name like generator.publish or channel.email.send' in bad_name.get_data(as_text=True)
    assert not _limits(admin_app)


def test_a_manager_can_neither_see_nor_change_rate_limits(admin_app: Flask, login_as: LoginAs) -> None:
    client = login_as('manager')

    seen = client.get('/admin/limits/')
    changed = post_form(client, '/admin/', '/admin/limits/', {'name': 'generator.publish', 'rate': '1/s'})
    removed = post_form(client, '/admin/', '/admin/limits/generator.publish/remove/', {})

    assert seen.status_code == changed.status_code == removed.status_code == 403
    assert 'This page needs the operator role.' in changed.get_data(as_text=True)
    assert not _limits(admin_app)


def test_the_operations_page_shows_every_process_breaker(admin_app: Flask, login_as: LoginAs) -> None:
    changed_at = dt.datetime(2025, 3, 1, 10, 0, tzinfo=dt.timezone.utc)
    with admin_app.app_context():
        db.session.add_all([
            BreakerState(name='users.directory', holder='worker-1:4242', phase=BreakerPhase.open,
                         detail='5 failures in 10 s: connection refused', changed_at=changed_at),
            BreakerState(name='users.directory', holder='worker-2:4343', phase=BreakerPhase.recovering,
                         detail='slow start at 25 %', changed_at=changed_at),
            BreakerState(name='channel.email', holder='sender-1:77', phase=BreakerPhase.closed, changed_at=changed_at),
        ])
        db.session.commit()

    page = login_as('operator').get('/admin/operations/').get_data(as_text=True)
    refused = login_as('manager').get('/admin/operations/')

    assert page.count('<tr class="breaker ') == 3
    assert page.index('channel.email') < page.index('worker-1:4242') < page.index('worker-2:4343')
    assert '<span class="badge badge-danger breaker-phase">open</span>' in page
    assert '5 failures in 10 s: connection refused' in page
    assert '<span class="badge badge-info breaker-phase">recovering</span>' in page
    assert '2025-03-01 10:00:00 UTC' in page
    assert refused.status_code == 403


def test_no_breaker_state_yet_is_said_so(admin_app: Flask, login_as: LoginAs) -> None:
    page = login_as('operator').get('/admin/operations/').get_data(as_text=True)

    assert 'No breaker has reported a state yet.' in page
