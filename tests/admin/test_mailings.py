"""The mailing pages: drafts that never send, the dry run, the confirmed launch that sends once, progress, pause."""

import datetime as dt
import html
import io
import threading

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from notifier.extensions import db
from notifier.models import Mailing, Notification, Occurrence, Schedule
from notifier.services import mailing_drafts
from notifier.services.bulk_fires import fire_bulk
from notifier.services.mailings import MailingStateError
from tests.admin.conftest import LoginAs, csrf_token_of, post_form
from tests.admin import mailing_helpers as helpers
from tests.admin.mailing_helpers import address_of, announced, confirmed_version, fill_directory, launch, save_draft
from tests.plugins.app import AUTH, running_consumers, wait_for
from tests.plugins.smtp import RecordingHandler


def _mailing(flask_app: Flask, mailing_id: str) -> tuple[str, str]:
    """The mailing's state and its notification's status."""
    with flask_app.app_context():
        mailing = db.session.get(Mailing, mailing_id)
        notification = db.session.get(Notification, mailing_id)
        assert mailing is not None and notification is not None
        return mailing.state, notification.status


def test_the_dry_run_counts_whom_the_mailing_reaches_and_why_it_skips_the_others(
    admin_app: Flask, login_as: LoginAs,
) -> None:
    fill_directory(admin_app)
    client = login_as('manager')
    mailing_id = save_draft(client)

    page = client.get('/admin/mailings/{0}/dry-run/'.format(mailing_id)).get_data(as_text=True)

    assert '<strong id="dry-run-reached">3</strong> recipient(s)' in page
    assert '<strong id="dry-run-skipped">2</strong>' in page
    assert '<td class="reason">opted out</td><td class="count">1</td>' in page
    assert '<td class="reason">user has no email address</td><td class="count">1</td>' in page
    assert page.count('class="card mb-3 sample"') == 3
    for user_id in helpers.READERS:
        assert 'Премьера для Зритель {0}'.format(user_id) in page
    assert address_of(helpers.OUTSIDER) not in page
    assert _mailing(admin_app, mailing_id) == ('draft', 'draft')
    assert announced(admin_app, mailing_id) == 0


def test_a_template_that_renders_for_nobody_cannot_be_launched(admin_app: Flask, login_as: LoginAs) -> None:
    fill_directory(admin_app)
    client = login_as('manager')
    mailing_id = save_draft(client, template='no_such_template')

    dry_run = html.unescape(client.get('/admin/mailings/{0}/dry-run/'.format(mailing_id)).get_data(as_text=True))
    confirmation = helpers.confirm_page(client, mailing_id).get_data(as_text=True)

    assert "email: no template 'no_such_template' for channel email" in dry_run
    assert 'id="launch"' not in dry_run
    assert 'name="confirmed_version"' not in confirmation


def test_saving_and_editing_a_draft_never_sends_it(admin_app: Flask, login_as: LoginAs) -> None:
    fill_directory(admin_app)
    client = login_as('manager')
    mailing_id = save_draft(client)
    edit_page = '/admin/mailings/{0}/edit/'.format(mailing_id)

    form_page = client.get(edit_page).get_data(as_text=True)
    edited = post_form(client, edit_page, edit_page, {
        'notification_type': 'info', 'template': 'promo', 'locale': 'ru', 'channels': ['email'],
        'template_fields': '{"title": "финал сезона", "text": "Смотрите"}', 'audience': 'everyone',
        'timing': 'now', 'timezone': 'UTC',
    })

    assert 'value="vip"' in form_page
    assert edited.status_code == 302
    assert 'every user' in client.get('/admin/mailings/{0}/dry-run/'.format(mailing_id)).get_data(as_text=True)
    assert _mailing(admin_app, mailing_id) == ('draft', 'draft')
    assert announced(admin_app, mailing_id) == 0


def test_a_broken_form_is_shown_again_with_the_reason(admin_app: Flask, login_as: LoginAs) -> None:
    client = login_as('manager')

    refused = post_form(client, '/admin/mailings/new/', '/admin/mailings/new/', {
        'notification_type': 'info', 'template': 'promo', 'locale': 'ru', 'channels': ['email'],
        'template_fields': '{"title": ', 'audience': 'everyone', 'timing': 'cron', 'cron': '0 10 * * 1',
        'timezone': 'UTC',
    })

    assert refused.status_code == 422
    assert 'the sample fields are not valid JSON' in refused.get_data(as_text=True)
    with admin_app.app_context():
        assert not db.session.scalars(select(Mailing)).all()


def test_the_launch_needs_the_confirmation_step(admin_app: Flask, login_as: LoginAs) -> None:
    fill_directory(admin_app)
    client = login_as('manager')
    mailing_id = save_draft(client)
    page = '/admin/mailings/{0}/dry-run/'.format(mailing_id)

    unconfirmed = post_form(client, page, '/admin/mailings/{0}/launch/'.format(mailing_id), {})

    assert unconfirmed.headers['Location'] == '/admin/mailings/{0}/launch/'.format(mailing_id)
    assert 'Confirm the launch on this page first.' in helpers.confirm_page(client, mailing_id).get_data(as_text=True)
    assert _mailing(admin_app, mailing_id) == ('draft', 'draft')
    assert announced(admin_app, mailing_id) == 0


def test_a_launch_posted_without_the_csrf_token_is_refused(admin_app: Flask, login_as: LoginAs) -> None:
    fill_directory(admin_app)
    client = login_as('manager')
    mailing_id = save_draft(client)
    version = confirmed_version(client, mailing_id)

    refused = client.post('/admin/mailings/{0}/launch/'.format(mailing_id), data={
        'confirm': 'launch', 'confirmed_version': version,
    })

    assert refused.status_code == 400
    assert 'The CSRF token is missing.' in refused.get_data(as_text=True)
    assert _mailing(admin_app, mailing_id) == ('draft', 'draft')


def test_a_draft_edited_after_its_confirmation_page_must_be_confirmed_again(
    admin_app: Flask, login_as: LoginAs,
) -> None:
    fill_directory(admin_app)
    client = login_as('manager')
    mailing_id = save_draft(client)
    old_version = confirmed_version(client, mailing_id)
    edit_page = '/admin/mailings/{0}/edit/'.format(mailing_id)
    post_form(client, edit_page, edit_page, {
        'notification_type': 'info', 'template': 'promo', 'locale': 'ru', 'channels': ['email'],
        'template_fields': '{"title": "другое", "text": "x"}', 'audience': 'everyone', 'timing': 'now',
        'timezone': 'UTC',
    })

    refused = launch(client, mailing_id, old_version)

    assert refused.headers['Location'] == '/admin/mailings/{0}/launch/'.format(mailing_id)
    confirmation = helpers.confirm_page(client, mailing_id).get_data(as_text=True)
    assert 'the draft was changed after you confirmed it' in confirmation
    assert _mailing(admin_app, mailing_id) == ('draft', 'draft')


def test_a_mailing_launched_twice_is_sent_once_to_exactly_its_audience(
    smtp_app: Flask, admin_app: Flask, smtp_server: RecordingHandler, login_as: LoginAs,
) -> None:
    fill_directory(admin_app)
    client = login_as('manager')
    mailing_id = save_draft(client)
    version = confirmed_version(client, mailing_id)

    with running_consumers(admin_app):
        first = launch(client, mailing_id, version)
        second = launch(client, mailing_id, version)
        progress_url = '/admin/mailings/{0}/progress.json'.format(mailing_id)
        wait_for(lambda: client.get(progress_url).json['finished'], timeout=60, what='the mailing to finish')

    report = client.get(progress_url).json
    page = client.get('/admin/mailings/{0}/'.format(mailing_id)).get_data(as_text=True)
    received = sorted(str(mail['To']) for mail in smtp_server.messages)
    assert first.headers['Location'] == second.headers['Location'] == '/admin/mailings/{0}/'.format(mailing_id)
    assert 'the mailing was launched already' in page
    assert received == [address_of(user_id) for user_id in helpers.READERS]
    assert smtp_server.to(address_of('u1'))[0]['Subject'] == 'Премьера для Зритель u1'
    assert announced(admin_app, mailing_id) == 1
    assert (report['sent'], report['skipped'], report['failed'], report['queued']) == (3, 2, 0, 0)
    assert report['percent'] == 100
    assert report['skipped_reasons'] == {'opted out': 1, 'user has no email address': 1}


def _launch_in_a_thread(
    flask_app: Flask, mailing_id: str, version: str, start: threading.Barrier, outcomes: list[str],
) -> None:
    with flask_app.app_context():
        start.wait()
        try:
            mailing_drafts.launch(db.session(), mailing_id, version, dt.datetime.now(dt.timezone.utc))
        except MailingStateError:
            outcomes.append('refused')
        else:
            outcomes.append('launched')
        finally:
            db.session.remove()


def test_two_launches_at_the_same_moment_launch_once(admin_app: Flask, login_as: LoginAs) -> None:
    fill_directory(admin_app)
    client = login_as('manager')
    mailing_id = save_draft(client)
    version = confirmed_version(client, mailing_id)
    outcomes: list[str] = []
    start = threading.Barrier(2)
    threads = [
        threading.Thread(target=_launch_in_a_thread, args=(admin_app, mailing_id, version, start, outcomes))
        for _ in range(2)
    ]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ['launched', 'refused']
    assert announced(admin_app, mailing_id) == 1


def test_a_launched_mailing_can_no_longer_be_edited_or_deleted(admin_app: Flask, login_as: LoginAs) -> None:
    fill_directory(admin_app)
    client = login_as('manager')
    mailing_id = save_draft(client)
    launch(client, mailing_id, confirmed_version(client, mailing_id))
    progress_page = '/admin/mailings/{0}/'.format(mailing_id)

    edit = client.get('/admin/mailings/{0}/edit/'.format(mailing_id))
    deleted = post_form(client, progress_page, '/admin/mailings/{0}/delete/'.format(mailing_id), {})

    assert edit.headers['Location'] == progress_page
    assert deleted.headers['Location'] == progress_page
    assert 'Only a draft can be deleted.' in client.get(progress_page).get_data(as_text=True)
    assert _mailing(admin_app, mailing_id) == ('expanding', 'accepted')


def test_a_draft_can_be_deleted(admin_app: Flask, login_as: LoginAs) -> None:
    client = login_as('manager')
    mailing_id = save_draft(client, audience='everyone')

    post_form(client, '/admin/mailings/', '/admin/mailings/{0}/delete/'.format(mailing_id), {})

    assert 'Deleted the draft.' in client.get('/admin/mailings/').get_data(as_text=True)
    with admin_app.app_context():
        assert db.session.get(Notification, mailing_id) is None


def _press(client: FlaskClient, mailing_id: str, action: str) -> str:
    """Press a button of the progress page; the page after it."""
    page = '/admin/mailings/{0}/'.format(mailing_id)
    post_form(client, page, '/admin/mailings/{0}/change/{1}/'.format(mailing_id, action), {})
    return client.get(page).get_data(as_text=True)


def test_the_manager_pauses_resumes_and_cancels_a_running_mailing(admin_app: Flask, login_as: LoginAs) -> None:
    fill_directory(admin_app)
    client = login_as('manager')
    mailing_id = save_draft(client)
    launch(client, mailing_id, confirmed_version(client, mailing_id))

    paused = _press(client, mailing_id, 'pause')
    paused_again = _press(client, mailing_id, 'pause')
    resumed = _press(client, mailing_id, 'resume')
    cancelled = _press(client, mailing_id, 'cancel')

    assert 'The mailing is paused.' in paused
    assert 'id="resume"' in paused
    assert 'it cannot become paused' in paused_again
    assert 'The mailing is expanding.' in resumed
    assert 'The mailing is cancelled.' in cancelled
    assert 'id="pause"' not in cancelled
    assert client.get('/admin/mailings/{0}/progress.json'.format(mailing_id)).json['finished'] is True


def test_a_mailing_at_a_time_waits_for_it(admin_app: Flask, login_as: LoginAs) -> None:
    fill_directory(admin_app)
    client = login_as('manager')
    mailing_id = save_draft(client, timing='at', send_at='2031-03-01T10:00', timezone='Europe/Moscow')

    confirmation = helpers.confirm_page(client, mailing_id).get_data(as_text=True)
    launch(client, mailing_id, confirmed_version(client, mailing_id))

    assert 'at 2031-03-01 10:00 (Europe/Moscow)' in confirmation
    with admin_app.app_context():
        notification = db.session.get(Notification, mailing_id)
        assert notification is not None
        assert notification.scheduled_at == dt.datetime(2031, 3, 1, 7, 0, tzinfo=dt.timezone.utc)
    assert announced(admin_app, mailing_id) == 1  # the router keeps it for the scheduler until then


def test_an_uploaded_file_of_user_ids_is_the_audience(admin_app: Flask, login_as: LoginAs) -> None:
    fill_directory(admin_app)
    client = login_as('manager')
    token = csrf_token_of(client.get('/admin/mailings/new/'))
    upload = io.BytesIO('user_id\nu1\nu2\nu2\nghost\n'.encode())

    saved = client.post('/admin/mailings/new/', data={
        'notification_type': 'info', 'template': 'promo', 'locale': 'ru', 'channels': ['email'],
        'template_fields': '{"title": "t", "text": "x"}', 'audience': 'file', 'timing': 'now', 'timezone': 'UTC',
        'user_file': (upload, 'users.csv'), 'csrf_token': token,
    }, content_type='multipart/form-data')
    dry_run = client.get(saved.headers['Location']).get_data(as_text=True)

    assert '3 user(s) from an uploaded file' in dry_run
    assert '<strong id="dry-run-reached">2</strong>' in dry_run
    assert '<td class="reason">user does not exist (any more)</td><td class="count">1</td>' in dry_run


def test_a_cron_mailing_starts_a_schedule_that_makes_one_mailing_per_fire(admin_app: Flask, login_as: LoginAs) -> None:
    fill_directory(admin_app, with_no_address=False)
    client = login_as('manager')
    mailing_id = save_draft(client, timing='cron', cron='0 10 * * 1', timezone='Europe/Moscow')
    page = '/admin/mailings/{0}/'.format(mailing_id)

    launch(client, mailing_id, confirmed_version(client, mailing_id))
    with admin_app.app_context():
        schedule = db.session.scalars(select(Schedule).where(Schedule.name == 'mailing-{0}'.format(mailing_id))).one()
        assert (schedule.cron, schedule.timezone, schedule.enabled) == ('0 10 * * 1', 'Europe/Moscow', True)
        assert schedule.audience == {'kind': 'segment', 'segment': 'vip'}
        occurrence = Occurrence(schedule_id=schedule.id, fire_at=schedule.next_fire_at, state='fired')
        db.session.add(occurrence)
        db.session.flush()
        fire_bulk(db.session(), schedule, occurrence)
        db.session.commit()
    recurring_page = html.unescape(client.get(page).get_data(as_text=True))
    post_form(client, page, '/admin/mailings/{0}/change/pause/'.format(mailing_id), {})

    assert 'on the schedule "0 10 * * 1" (Europe/Moscow)' in recurring_page
    assert '<ul id="fired"><li>' in recurring_page
    assert announced(admin_app, mailing_id) == 0
    with admin_app.app_context():
        fired = db.session.scalars(select(Mailing).where(Mailing.notification_id != mailing_id)).one()
        assert (fired.state, fired.audience, fired.total) == ('expanding', {'segment': 'vip'}, 4)
        assert db.session.scalars(select(Schedule.enabled)).one() is False
    assert _mailing(admin_app, mailing_id) == ('paused', 'recurring')


def test_the_list_shows_drafts_and_launched_mailings(admin_app: Flask, login_as: LoginAs) -> None:
    fill_directory(admin_app)
    client = login_as('manager')
    draft_id = save_draft(client)
    launched_id = save_draft(client, audience='everyone')
    launch(client, launched_id, confirmed_version(client, launched_id))

    page = client.get('/admin/mailings/').get_data(as_text=True)

    assert '/admin/mailings/{0}/dry-run/'.format(draft_id) in page
    assert '/admin/mailings/{0}/"'.format(launched_id) in page
    assert 'segment vip' in page
    assert 'every user' in page
    assert helpers.NO_ADDRESS not in page


def test_a_mailing_that_does_not_exist_is_not_found(admin_app: Flask, login_as: LoginAs) -> None:
    client = login_as('manager')

    assert client.get('/admin/mailings/no-such-mailing/').status_code == 404
    assert client.get('/admin/mailings/%00/progress.json').status_code == 404
    assert client.get('/admin/mailings/{0}/dry-run/'.format('x' * 300)).status_code == 404


def test_the_api_pauses_and_resumes_a_recurring_mailing_through_its_schedule(
    admin_app: Flask, login_as: LoginAs,
) -> None:
    fill_directory(admin_app, with_no_address=False)
    client = login_as('manager')
    mailing_id = save_draft(client, timing='cron', cron='0 10 * * 1', timezone='Europe/Moscow')
    launch(client, mailing_id, confirmed_version(client, mailing_id))
    api = admin_app.test_client()

    paused = api.post('/api/v1/mailings/{0}/pause'.format(mailing_id), headers=AUTH)
    with admin_app.app_context():
        paused_enabled = db.session.scalars(select(Schedule.enabled)).one()
    resumed = api.post('/api/v1/mailings/{0}/resume'.format(mailing_id), headers=AUTH)

    assert (paused.status_code, paused.json['state'], paused_enabled) == (200, 'paused', False)
    assert (resumed.status_code, resumed.json['state']) == (200, 'recurring')
    with admin_app.app_context():
        assert db.session.scalars(select(Schedule.enabled)).one() is True
    assert api.post('/api/v1/mailings/{0}/resume'.format(mailing_id), headers=AUTH).status_code == 409
