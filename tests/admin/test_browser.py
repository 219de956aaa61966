"""The panel in a real browser: headless Chromium writes a template, runs a mailing, and works as an operator.

Needs Debian's ``chromium`` and ``chromium-driver``
(``apt-get install -y chromium chromium-driver``, or ``scripts/ensure-chromium.sh``), or the browser and
driver named by ``NOTIFIER_TEST_CHROMIUM`` and ``NOTIFIER_TEST_CHROMEDRIVER`` (as CI sets them); skipped
with that reason when they are missing, and failed instead under ``CI=true``.
With ``NOTIFIER_SCREENSHOTS=docs/screenshots`` the tests save screenshots of the pages they pass through there
(the README shows them).
"""

import datetime as dt
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from notifier.extensions import db
from notifier.models import BreakerPhase, BreakerState
from notifier.pipeline import topology
from notifier.pipeline.broker import BrokerConnection
from notifier.settings import settings_of
from tests.admin.conftest import PASSWORD
from tests.admin.mailing_helpers import READERS, address_of, fill_directory
from tests.plugins.app import running_consumers
from tests.plugins.components import find_program, import_component, missing_component
from tests.plugins.smtp import RecordingHandler

webdriver = import_component('selenium.webdriver', 'selenium is not installed (pip install -e .[dev])')
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.select import Select  # noqa: E402
from selenium.webdriver.support.wait import WebDriverWait  # noqa: E402

CHROMIUM_FLAGS = (
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-dev-shm-usage', '--window-size=1400,1000',
)
CHROMIUM_MISSING = ' '.join((
    'Chromium not found: install it with `apt-get install -y chromium chromium-driver`,',
    'or name the browser and its driver in NOTIFIER_TEST_CHROMIUM and NOTIFIER_TEST_CHROMEDRIVER',
))
WINDOW_HEIGHT = 1000
WAIT_SECONDS = 20
MAILING_SECONDS = 60
SCREENSHOT_WIDTH = 1400
MAX_SCREENSHOT_HEIGHT = 2400
SOURCE = (
    '{% block subject %}Привет, {{ name }}!{% endblock %}\n'
    '{% block html %}<h1 id="greeting">Рады видеть, {{ name }}</h1>{% endblock %}'
)


def _chromium() -> tuple[str, str]:
    browser = find_program('NOTIFIER_TEST_CHROMIUM', 'chromium', 'chromium-browser')
    driver = find_program('NOTIFIER_TEST_CHROMEDRIVER', 'chromedriver')
    if browser is None or driver is None:
        missing_component(CHROMIUM_MISSING)
    return browser, driver


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The browser test runs once, on the embedded SQLite (the server thread shares the file)."""
    return 'sqlite:///{0}'.format(tmp_path / 'notifier.db')


@pytest.fixture
def served(admin_app: Flask) -> Iterator[str]:
    """The app behind a real HTTP server in a thread; yields its base URL."""
    server = make_server('127.0.0.1', 0, admin_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield 'http://127.0.0.1:{0}'.format(server.server_port)
    finally:
        server.shutdown()
        thread.join(timeout=WAIT_SECONDS)


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    """Headless Chromium with a fresh profile."""
    binary, driver_path = _chromium()
    profile = tempfile.mkdtemp(prefix='chromium-profile-')
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (*CHROMIUM_FLAGS, '--user-data-dir={0}'.format(profile)):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _type_into(driver: webdriver.Chrome, field_id: str, text: str) -> None:
    field = driver.find_element(By.ID, field_id)
    field.clear()
    field.send_keys(text)


def _screenshot(browser: webdriver.Chrome, name: str) -> None:
    """Save the whole page as ``<NOTIFIER_SCREENSHOTS>/<name>.png`` when that variable names a directory."""
    directory = os.environ.get('NOTIFIER_SCREENSHOTS')
    if not directory:
        return
    height = int(browser.execute_script('return document.documentElement.scrollHeight'))
    browser.set_window_size(SCREENSHOT_WIDTH, min(height + 140, MAX_SCREENSHOT_HEIGHT))
    Path(directory).mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(Path(directory) / '{0}.png'.format(name)))
    browser.set_window_size(SCREENSHOT_WIDTH, WINDOW_HEIGHT)


def _log_in(browser: webdriver.Chrome, wait: WebDriverWait, page: str, role: str = 'manager') -> None:
    browser.get(page)
    wait.until(expected_conditions.presence_of_element_located((By.ID, 'login-form')))
    _type_into(browser, 'email', '{0}@cinema.example'.format(role))
    _type_into(browser, 'password', PASSWORD)
    if role == 'manager':
        _screenshot(browser, 'login')
    browser.find_element(By.ID, 'login').click()


def _open_new_template(browser: webdriver.Chrome, wait: WebDriverWait) -> None:
    wait.until(expected_conditions.presence_of_element_located((By.ID, 'new-template')))
    browser.find_element(By.ID, 'new-template').click()
    wait.until(expected_conditions.presence_of_element_located((By.ID, 'template-form')))
    Select(browser.find_element(By.ID, 'channel')).select_by_value('email')
    _type_into(browser, 'name', 'autumn_promo')
    _type_into(browser, 'locale', 'ru')
    _type_into(browser, 'sample_fields', '{"name": "Вася"}')


def _greeting_in_preview(browser: webdriver.Chrome) -> str:
    browser.switch_to.frame(browser.find_element(By.ID, 'preview-html'))
    greeting = browser.find_element(By.ID, 'greeting').text
    browser.switch_to.default_content()
    return str(greeting)


def _previewed(browser: webdriver.Chrome, wait: WebDriverWait) -> str:
    """The greeting of the preview, once the preview shows the draft without an error."""
    wait.until(expected_conditions.text_to_be_present_in_element((By.ID, 'preview-subject'), 'Привет, Вася!'))
    assert not browser.find_element(By.ID, 'preview-error').is_displayed()
    _screenshot(browser, 'template-preview')
    return _greeting_in_preview(browser)


def test_a_manager_logs_in_writes_a_template_sees_the_preview_and_saves_it(
    served: str, browser: webdriver.Chrome,
) -> None:
    wait = WebDriverWait(browser, WAIT_SECONDS)
    _log_in(browser, wait, '{0}/admin/templates/'.format(served))
    _open_new_template(browser, wait)

    _type_into(browser, 'source', '{% block subject %}Привет, {{ name.__class__ }}!{% endblock %}')
    wait.until(expected_conditions.text_to_be_present_in_element((By.ID, 'preview-error'), 'sandbox forbids'))
    _type_into(browser, 'source', SOURCE)
    assert _previewed(browser, wait) == 'Рады видеть, Вася'

    browser.find_element(By.ID, 'save').click()
    wait.until(expected_conditions.text_to_be_present_in_element(
        (By.TAG_NAME, 'body'), 'Saved email/autumn_promo.ru.html as version 1.',
    ))
    browser.get('{0}/admin/templates/'.format(served))
    assert 'autumn_promo' in browser.find_element(By.ID, 'stored-templates').text


def _text(browser: webdriver.Chrome, element_id: str) -> str:
    return str(browser.find_element(By.ID, element_id).text)


def _plan_a_mailing(browser: webdriver.Chrome, wait: WebDriverWait) -> None:
    """The new-mailing form: the stored promo template, to the vip segment, by email, now."""
    wait.until(expected_conditions.element_to_be_clickable((By.ID, 'new-mailing'))).click()
    wait.until(expected_conditions.presence_of_element_located((By.ID, 'mailing-form')))
    Select(browser.find_element(By.ID, 'notification_type')).select_by_value('info')
    _type_into(browser, 'template', 'promo')
    _type_into(browser, 'template_fields', '{"title": "новый сезон", "text": "Уже на сайте"}')
    _choose_segment(browser, wait, 'vip')
    _save_the_draft(browser)


def _save_the_draft(browser: webdriver.Chrome) -> None:
    assert browser.find_element(By.ID, 'channel-email').is_selected()  # email is the default channel
    _screenshot(browser, 'mailing-new')
    browser.find_element(By.ID, 'save-draft').click()


def _choose_segment(browser: webdriver.Chrome, wait: WebDriverWait, segment: str) -> None:
    browser.find_element(By.CSS_SELECTOR, 'input[name="audience"][value="segment"]').click()
    wait.until(expected_conditions.visibility_of_element_located((By.ID, 'segment')))
    _type_into(browser, 'segment', segment)


def _launch_after_confirming(browser: webdriver.Chrome, wait: WebDriverWait) -> None:
    browser.find_element(By.ID, 'launch').click()
    question = wait.until(expected_conditions.presence_of_element_located((By.ID, 'confirm-question')))
    assert 'Send 3 message(s) to 3 recipient(s) now?' in question.text
    _screenshot(browser, 'mailing-confirm')
    browser.find_element(By.ID, 'confirm-launch').click()


def _dry_run_seen(browser: webdriver.Chrome, wait: WebDriverWait) -> dict[str, object]:
    """What the dry run page says: counts, skip reasons and the sample subjects."""
    wait.until(expected_conditions.presence_of_element_located((By.ID, 'dry-run')))
    _screenshot(browser, 'mailing-dry-run')
    return {
        'reached': _text(browser, 'dry-run-reached'),
        'skipped': _text(browser, 'dry-run-skipped'),
        'reasons': _text(browser, 'dry-run-reasons'),
        'subjects': [element.text for element in browser.find_elements(By.CLASS_NAME, 'sample-subject')],
    }


def _watch_to_the_end(browser: webdriver.Chrome) -> dict[str, str]:
    """Watch the progress page until the bar is full and every recipient queued; the counts it ends with."""
    finished = WebDriverWait(browser, MAILING_SECONDS)
    finished.until(expected_conditions.text_to_be_present_in_element((By.ID, 'progress-bar'), '100 %'))
    finished.until(expected_conditions.text_to_be_present_in_element((By.ID, 'mailing-state'), 'expanded'))
    browser.refresh()  # the finished page as it loads, without the bar's closing animation
    finished.until(expected_conditions.text_to_be_present_in_element((By.ID, 'progress-bar'), '100 %'))
    assert browser.find_element(By.ID, 'progress').get_attribute('data-finished') == 'true'
    _screenshot(browser, 'mailing-progress')
    counted = ('sent', 'skipped', 'queued', 'failed')
    return {name: _text(browser, 'count-{0}'.format(name)) for name in counted}


def test_a_manager_runs_a_mailing_from_its_dry_run_to_the_last_mail(
    served: str, browser: webdriver.Chrome, admin_app: Flask, smtp_app: Flask, smtp_server: RecordingHandler,
) -> None:
    fill_directory(admin_app, with_no_address=False)
    wait = WebDriverWait(browser, WAIT_SECONDS)
    _log_in(browser, wait, '{0}/admin/mailings/'.format(served))
    _plan_a_mailing(browser, wait)

    assert _dry_run_seen(browser, wait) == {
        'reached': '3',
        'skipped': '1',
        'reasons': 'skipped because how many\nopted out 1',
        'subjects': ['Премьера для Зритель {0}'.format(user_id) for user_id in READERS],
    }
    assert not smtp_server.messages  # a draft and its dry run send nothing
    with running_consumers(admin_app):
        _launch_after_confirming(browser, wait)
        counts = _watch_to_the_end(browser)

    assert counts == {'sent': '3', 'skipped': '1', 'queued': '0', 'failed': '0'}
    assert 'opted out: 1' in _text(browser, 'skipped-reasons')
    received = sorted(str(mail['To']) for mail in smtp_server.messages)
    assert received == [address_of(user_id) for user_id in READERS]


def _breakers_and_queues(flask_app: Flask) -> None:
    settings = settings_of(flask_app)
    broker = BrokerConnection(settings.broker_url, 'test topology')
    channels = ['email', 'sms', 'push', 'websocket']
    broker.declare(topology.all_queues(channels, settings.delivery_limit, settings.retry_delay_seconds))
    broker.close()
    changed_at = dt.datetime.now(dt.timezone.utc)
    with flask_app.app_context():
        db.session.add_all([
            BreakerState(name='users.directory', holder='consume-1:4242', phase=BreakerPhase.open,
                         detail='5 failures in 10 s: connection refused', changed_at=changed_at),
            BreakerState(name='users.directory', holder='consume-2:4343', phase=BreakerPhase.recovering,
                         detail='slow start at 25 % of 200/s', changed_at=changed_at),
            BreakerState(
                name='channel.email', holder='consume-1:4242', phase=BreakerPhase.closed, changed_at=changed_at,
            ),
        ])
        db.session.commit()


def test_an_operator_sees_breakers_and_queues_and_changes_a_rate_limit(
    served: str, browser: webdriver.Chrome, admin_app: Flask,
) -> None:
    _breakers_and_queues(admin_app)
    wait = WebDriverWait(browser, WAIT_SECONDS)
    _log_in(browser, wait, '{0}/admin/operations/'.format(served), role='operator')

    breakers = wait.until(expected_conditions.presence_of_element_located((By.ID, 'breakers')))
    assert 'consume-1:4242' in breakers.text
    assert '5 failures in 10 s: connection refused' in breakers.text
    assert 'notifier.parking-lot' in _text(browser, 'queues')
    _screenshot(browser, 'operations')

    browser.get('{0}/admin/limits/'.format(served))
    _type_into(browser, 'name', 'generator.publish')
    _type_into(browser, 'rate', '500/s')
    browser.find_element(By.ID, 'set-limit').click()
    wait.until(expected_conditions.text_to_be_present_in_element((By.ID, 'limits'), '500/s'))
    assert 'generator.publish' in _text(browser, 'limits')
    _screenshot(browser, 'rate-limits')
