"""The template store: the brief's templates, the sandbox, and clear errors."""

from pathlib import Path

import pytest

from notifier.paths import PROJECT_ROOT
from notifier.templating.store import TemplateError, TemplateStore

TEMPLATES = PROJECT_ROOT / 'templates'


@pytest.fixture
def store() -> TemplateStore:
    return TemplateStore(TEMPLATES, 'ru')


def test_welcome_greets_by_name(store: TemplateStore) -> None:
    rendered = store.render('email', 'welcome', 'ru', {'name': 'Вася'})

    assert rendered.subject == 'Добро пожаловать!'
    assert '<h1>Привет Вася!</h1>' in rendered.html
    assert rendered.text.startswith('Привет Вася!')


def test_info_shows_title_and_text(store: TemplateStore) -> None:
    rendered = store.render('email', 'info', 'ru', {'title': 'Премьера', 'text': 'Сегодня в 20:00'})

    assert rendered.subject == 'Премьера'
    assert '<h1>Премьера</h1>' in rendered.html
    assert '<p>Сегодня в 20:00</p>' in rendered.html


def test_user_data_is_escaped_in_html_but_not_in_the_subject(store: TemplateStore) -> None:
    rendered = store.render('email', 'info', 'ru', {'title': 'Tom & <Jerry>', 'text': '<script>x</script>'})

    assert rendered.subject == 'Tom & <Jerry>'
    assert '&lt;script&gt;' in rendered.html
    assert '<script>' not in rendered.html


def test_line_breaks_in_a_subject_never_become_headers(store: TemplateStore) -> None:
    rendered = store.render('email', 'info', 'ru', {'title': 'Hi\r\nBcc: victim@example.com', 'text': 't'})

    assert rendered.subject == 'Hi Bcc: victim@example.com'


def test_a_missing_field_names_the_field(store: TemplateStore) -> None:
    with pytest.raises(TemplateError, match="'name' is undefined"):
        store.render('email', 'welcome', 'ru', {})


def test_an_unknown_template_says_where_it_looked(store: TemplateStore) -> None:
    with pytest.raises(TemplateError, match='email/nope.en.html, email/nope.ru.html'):
        store.render('email', 'nope', 'en', {})


def test_another_locale_falls_back_to_the_default(store: TemplateStore) -> None:
    rendered = store.render('email', 'welcome', 'en', {'name': 'Vasya'})

    assert 'Привет Vasya!' in rendered.html


def test_sandbox_refuses_python_internals(tmp_path: Path) -> None:
    (tmp_path / 'email').mkdir()
    (tmp_path / 'email' / 'evil.ru.html').write_text(
        "{% block html %}{{ ''.__class__.__mro__[1].__subclasses__() }}{% endblock %}",
    )

    with pytest.raises(TemplateError, match='unsafe'):
        TemplateStore(tmp_path, 'ru').render('email', 'evil', 'ru', {})


def test_a_syntax_error_gives_the_line(tmp_path: Path) -> None:
    (tmp_path / 'email').mkdir()
    (tmp_path / 'email' / 'broken.ru.html').write_text('{% block html %}\n{{ name \n{% endblock %}')

    with pytest.raises(TemplateError, match='syntax error at line'):
        TemplateStore(tmp_path, 'ru').render('email', 'broken', 'ru', {'name': 'x'})


def test_a_stored_template_overrides_the_file() -> None:
    stored = {
        'email/welcome.ru.html': (
            '{% block subject %}Стало{% endblock %}{% block html %}<b>{{ name }}</b>{% endblock %}'
        ),
    }

    rendered = TemplateStore(TEMPLATES, 'ru', stored.get).render('email', 'welcome', 'ru', {'name': 'Вася'})

    assert rendered.subject == 'Стало'
    assert rendered.html == '<b>Вася</b>'
    assert rendered.text == 'Вася'
