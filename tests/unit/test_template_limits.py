"""Manager-written templates cannot run for ever, fill memory, read files or reach Python internals."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notifier.templating.budget import MAX_RENDERED_CHARS, RENDER_SECONDS
from notifier.templating.store import RenderedContent, TemplateError, TemplateStore

FOREVER = '{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}'
HUGE = "{% for a in range(100000) %}{{ 'x' * 100 }}{% endfor %}"
ENDLESS_MACRO = '{% macro again(n) %}{{ again(n + 1) }}{% endmacro %}{{ again(0) }}'
READ_A_FILE = "{% include '/etc/passwd' %}"
INTERNALS = "{{ ''.__class__.__mro__[1].__subclasses__() }}"
#: Pieces a hostile or careless manager might put together (the 2-second loop is tested once, above).
PIECES = (
    '{{ name }}', '{{ range(5) | list }}', HUGE, '{{ cycler }}', '{{ self }}', '{{ lipsum() }}',
    "{{ ''.join(range(10) | map('string')) }}", '{% set x = [1] * 10 %}{{ x }}', '{{ name.__class__ }}',
    "{{ 'a' * 1000 }}", '{% raw %}{{{% endraw %}', INTERNALS, '{{ config }}', '{{ namespace() }}',
)


def _store(tmp_path: Path, html: str) -> TemplateStore:
    (tmp_path / 'email').mkdir(exist_ok=True)
    source = '{% block subject %}S{% endblock %}{% block html %}' + html + '{% endblock %}'  # noqa: WPS336
    (tmp_path / 'email' / 'manager.ru.html').write_text(source)
    return TemplateStore(tmp_path, 'ru')


@pytest.mark.parametrize(('html', 'reason'), [
    (FOREVER, 'took longer than {0:g} s'.format(RENDER_SECONDS)),
    (HUGE, 'renders more than {0} characters'.format(MAX_RENDERED_CHARS)),
    (ENDLESS_MACRO, 'calls itself too deeply'),
    (READ_A_FILE, 'failed to render: /etc/passwd'),
    (INTERNALS, 'unsafe'),
])
def test_a_template_over_a_limit_is_refused_with_the_reason(tmp_path: Path, html: str, reason: str) -> None:
    with pytest.raises(TemplateError, match=reason):
        _store(tmp_path, html).render('email', 'manager', 'ru', {'name': 'Вася'})


@settings(max_examples=60, deadline=None)
@given(pieces=st.lists(st.sampled_from(PIECES), min_size=1, max_size=4))
def test_any_mix_of_pieces_renders_or_is_refused_with_a_reason(
    tmp_path_factory: pytest.TempPathFactory, pieces: list[str],
) -> None:
    store = _store(tmp_path_factory.mktemp('templates'), ''.join(pieces))

    try:
        rendered = store.render('email', 'manager', 'ru', {'name': 'Вася'})
    except TemplateError as error:
        assert str(error).startswith("template 'manager'")
    else:
        assert isinstance(rendered, RenderedContent)
        assert len(rendered.html) <= MAX_RENDERED_CHARS
