"""The panel in a real browser: headless Chromium logs in, writes a template, sees its preview, saves it.

Needs Debian's ``chromium`` and ``chromium-driver``
(``apt-get install -y chromium chromium-driver``); skipped with that reason when they are missing.
"""

import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.admin.conftest import PASSWORD

webdriver = pytest.importorskip('selenium.webdriver', reason='selenium is not installed (pip install -e .[dev])')
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
WAIT_SECONDS = 20
SOURCE = (
    '{% block subject %}Привет, {{ name }}!{% endblock %}\n'
    '{% block html %}<h1 id="greeting">Рады видеть, {{ name }}</h1>{% endblock %}'
)


def _chromium() -> tuple[str, str]:
    browser = shutil.which('chromium') or shutil.which('chromium-browser')
    driver = shutil.which('chromedriver')
    if browser is None or driver is None:
        pytest.skip('Chromium not found: install it with `apt-get install -y chromium chromium-driver`')
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


def _log_in(browser: webdriver.Chrome, wait: WebDriverWait, page: str) -> None:
    browser.get(page)
    wait.until(expected_conditions.presence_of_element_located((By.ID, 'login-form')))
    _type_into(browser, 'email', 'manager@cinema.example')
    _type_into(browser, 'password', PASSWORD)
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


def test_a_manager_logs_in_writes_a_template_sees_the_preview_and_saves_it(
    served: str, browser: webdriver.Chrome,
) -> None:
    wait = WebDriverWait(browser, WAIT_SECONDS)
    _log_in(browser, wait, '{0}/admin/templates/'.format(served))
    _open_new_template(browser, wait)

    _type_into(browser, 'source', '{% block subject %}Привет, {{ name.__class__ }}!{% endblock %}')
    wait.until(expected_conditions.text_to_be_present_in_element((By.ID, 'preview-error'), 'sandbox forbids'))
    _type_into(browser, 'source', SOURCE)
    wait.until(expected_conditions.text_to_be_present_in_element((By.ID, 'preview-subject'), 'Привет, Вася!'))
    assert not browser.find_element(By.ID, 'preview-error').is_displayed()
    assert _greeting_in_preview(browser) == 'Рады видеть, Вася'

    browser.find_element(By.ID, 'save').click()
    wait.until(expected_conditions.text_to_be_present_in_element(
        (By.TAG_NAME, 'body'), 'Saved email/autumn_promo.ru.html as version 1.',
    ))
    browser.get('{0}/admin/templates/'.format(served))
    assert 'autumn_promo' in browser.find_element(By.ID, 'stored-templates').text
