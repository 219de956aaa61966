"""Templates in the admin: versions, the live preview, and broken templates refused before saving."""

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from notifier.extensions import db
from notifier.models import StoredTemplate, User
from notifier.settings import settings_of
from notifier.templating.stored import template_store
from tests.admin.conftest import LoginAs, csrf_token_of, post_form

PROMO_V1 = (
    '{% block subject %}Скидки, {{ name }}!{% endblock %}'
    '{% block html %}<p>Привет {{ name }}</p>{% endblock %}'
)
PROMO_V2 = (
    '{% block subject %}Новые скидки, {{ name }}!{% endblock %}'
    '{% block html %}<p>Снова {{ name }}</p>{% endblock %}'
)
NEW_PAGE = '/admin/templates/new/'
EDIT_PAGE = '/admin/templates/edit/email/promo/ru/'


def _save_new(client: FlaskClient, source: str, sample: str = '{"name": "Вася"}') -> str:
    answered = post_form(client, NEW_PAGE, NEW_PAGE, {
        'channel': 'email', 'name': 'promo', 'locale': 'ru', 'source': source,
        'sample_fields': sample, 'base_version': '0',
    })
    return answered.get_data(as_text=True) if answered.status_code != 302 else answered.headers['Location']


def _preview(client: FlaskClient, source: str, sample: str = '{"name": "Вася"}', user_id: str = '') -> dict[str, str]:
    token = csrf_token_of(client.get(NEW_PAGE))
    answered = client.post('/admin/templates/preview/', json={
        'channel': 'email', 'name': 'promo', 'locale': 'ru', 'source': source,
        'sample_fields': sample, 'user_id': user_id,
    }, headers={'X-CSRFToken': token})
    assert answered.status_code == 200
    return answered.get_json()


def test_each_save_is_a_new_version_and_the_store_uses_the_newest(admin_app: Flask, login_as: LoginAs) -> None:
    client = login_as('manager')
    assert _save_new(client, PROMO_V1) == EDIT_PAGE
    editor = client.get(EDIT_PAGE).get_data(as_text=True)
    assert 'Saved email/promo.ru.html as version 1.' in editor

    answered = post_form(client, EDIT_PAGE, EDIT_PAGE, {
        'channel': 'email', 'name': 'promo', 'locale': 'ru', 'source': PROMO_V2,
        'sample_fields': '{"name": "Вася"}', 'base_version': '1',
    })

    assert answered.status_code == 302
    versions = client.get('/admin/templates/versions/email/promo/ru/').get_data(as_text=True)
    assert '2 version(s)' in versions
    assert 'version 2 (in use)' in versions
    assert 'Скидки, {{ name }}!' in versions
    with admin_app.app_context():
        rendered = template_store(settings_of()).render('email', 'promo', 'ru', {'name': 'Петя'})
    assert rendered.subject == 'Новые скидки, Петя!'


def test_a_save_from_an_old_version_is_refused_and_keeps_the_text(admin_app: Flask, login_as: LoginAs) -> None:
    client = login_as('manager')
    _save_new(client, PROMO_V1)
    post_form(client, EDIT_PAGE, EDIT_PAGE, {
        'channel': 'email', 'name': 'promo', 'locale': 'ru', 'source': PROMO_V2, 'base_version': '1',
        'sample_fields': '{"name": "Вася"}',
    })

    answered = post_form(client, EDIT_PAGE, EDIT_PAGE, {
        'channel': 'email', 'name': 'promo', 'locale': 'ru', 'source': '{0}<!-- mine -->'.format(PROMO_V1),
        'sample_fields': '{"name": "Вася"}', 'base_version': '1',
    })

    assert answered.status_code == 409
    assert 'version 2 was saved meanwhile' in answered.get_data(as_text=True)
    assert '&lt;!-- mine --&gt;' in answered.get_data(as_text=True)


def test_a_template_using_a_forbidden_attribute_is_refused_with_the_reason(admin_app: Flask, login_as: LoginAs) -> None:
    client = login_as('manager')

    page = _save_new(client, '{% block subject %}{{ name.__class__ }}{% endblock %}{% block html %}x{% endblock %}')

    assert "uses the attribute &#39;__class__&#39;, which the sandbox forbids" in page
    with admin_app.app_context():
        assert db.session.scalars(select(StoredTemplate)).all() == []


def test_the_sandbox_refuses_a_forbidden_attribute_reached_at_render_time(admin_app: Flask, login_as: LoginAs) -> None:
    source = "{% block subject %}{{ name|attr('__class__') }}{% endblock %}{% block html %}x{% endblock %}"
    answer = _preview(login_as('manager'), source)

    assert 'unsafe' in answer['error']
    assert '__class__' in answer['error']


def test_the_preview_shows_subject_html_and_text(admin_app: Flask, login_as: LoginAs) -> None:
    answer = _preview(login_as('manager'), PROMO_V1)

    assert answer['error'] is None
    assert answer['subject'] == 'Скидки, Вася!'
    assert answer['html'] == '<p>Привет Вася</p>'
    assert answer['text'] == 'Привет Вася'


def test_the_preview_escapes_user_data_in_html(admin_app: Flask, login_as: LoginAs) -> None:
    answer = _preview(login_as('manager'), PROMO_V1, sample='{"name": "<script>alert(1)</script>"}')

    assert '<script>' not in answer['html']
    assert '&lt;script&gt;' in answer['html']


def test_the_preview_names_the_errors_of_a_broken_template(admin_app: Flask, login_as: LoginAs) -> None:
    client = login_as('manager')

    syntax = _preview(client, '{% block subject %}{{ name }{% endblock %}')
    missing_field = _preview(client, PROMO_V1, sample='{}')
    bad_sample = _preview(client, PROMO_V1, sample='{"name": ')
    no_html = _preview(client, '{% block subject %}Hi{% endblock %}')

    assert syntax['error'].startswith('syntax error at line 1')
    assert "needs a field the event did not give: 'name' is undefined" in missing_field['error']
    assert 'the sample fields are not valid JSON' in bad_sample['error']
    assert 'missing: html' in no_html['error']


def test_the_preview_renders_for_a_chosen_real_user(admin_app: Flask, login_as: LoginAs) -> None:
    with admin_app.app_context():
        db.session.add(User(id='u-42', email='petya@example.com', name='Петя'))
        db.session.commit()
    client = login_as('manager')

    from_user = _preview(client, PROMO_V1, sample='{}', user_id='u-42')
    sample_wins = _preview(client, PROMO_V1, sample='{"name": "Маша"}', user_id='u-42')
    unknown = _preview(client, PROMO_V1, sample='{}', user_id='nobody')

    assert from_user['subject'] == 'Скидки, Петя!'
    assert sample_wins['subject'] == 'Скидки, Маша!'
    assert unknown['error'] == "no user with id 'nobody' in the user directory"


def test_a_file_template_can_be_overridden_from_its_source(admin_app: Flask, login_as: LoginAs) -> None:
    client = login_as('manager')

    listing = client.get('/admin/templates/').get_data(as_text=True)
    editor = client.get('/admin/templates/new/?channel=email&name=welcome&locale=ru').get_data(as_text=True)

    assert 'name=welcome' in listing
    assert 'Рады приветствовать тебя в нашем кинотеатре!' in editor
