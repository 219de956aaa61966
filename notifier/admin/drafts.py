"""Rendering a template that is not saved yet, in the same sandbox the pipeline uses.

The draft replaces the stored or file template of its channel, name and
locale for this one render; everything else (templates it extends or
includes) comes from the store as usual.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

from jinja2 import TemplateSyntaxError, nodes
from jinja2.sandbox import (
    UNSAFE_ASYNC_GENERATOR_ATTRIBUTES,
    UNSAFE_COROUTINE_ATTRIBUTES,
    UNSAFE_FUNCTION_ATTRIBUTES,
    UNSAFE_GENERATOR_ATTRIBUTES,
    UNSAFE_METHOD_ATTRIBUTES,
    SandboxedEnvironment,
)

from notifier.paths import templates_dir
from notifier.settings import Settings
from notifier.templating.store import RenderedContent, TemplateError, TemplateStore, template_path
from notifier.templating.stored import stored_source

#: Attributes the sandbox refuses at render time, named here so a draft is refused before it is saved.
FORBIDDEN_ATTRIBUTES: Final = frozenset((
    *UNSAFE_FUNCTION_ATTRIBUTES,
    *UNSAFE_METHOD_ATTRIBUTES,
    *UNSAFE_GENERATOR_ATTRIBUTES,
    *UNSAFE_COROUTINE_ATTRIBUTES,
    *UNSAFE_ASYNC_GENERATOR_ATTRIBUTES,
    'mro',
))
_REQUIRED_BLOCKS: Final = ('subject', 'html')


@dataclass(frozen=True)
class Draft:
    """A template as the editor holds it."""

    channel: str
    name: str
    locale: str
    source: str

    @property
    def path(self) -> str:
        """Its store name."""
        return template_path(self.channel, self.name, self.locale)


def _unsafe_name(node: nodes.Node) -> str | None:
    if isinstance(node, nodes.Getattr):
        attribute = node.attr
    elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        attribute = node.arg.value
    else:
        return None
    if isinstance(attribute, str) and (attribute.startswith('_') or attribute in FORBIDDEN_ATTRIBUTES):
        return attribute
    return None


def structure_problem(draft: Draft) -> str | None:
    """What makes a draft unacceptable whatever the fields: syntax, forbidden attributes, missing blocks."""
    environment = SandboxedEnvironment()
    try:
        parsed = environment.parse(draft.source)
    except TemplateSyntaxError as error:
        return 'syntax error at line {0}: {1}'.format(error.lineno, error.message)
    for node in parsed.find_all((nodes.Getattr, nodes.Getitem)):
        unsafe = _unsafe_name(node)
        if unsafe is not None:
            return 'line {0} uses the attribute {1!r}, which the sandbox forbids'.format(node.lineno, unsafe)
    defined = {block.name for block in parsed.find_all(nodes.Block)}
    missing = [block for block in _REQUIRED_BLOCKS if block not in defined]
    if missing and draft.channel == 'email':
        return 'an email template needs the blocks {0}; missing: {1}'.format(
            ', '.join(_REQUIRED_BLOCKS), ', '.join(missing),
        )
    return None


def _draft_or_stored(draft: Draft, path: str) -> str | None:
    return draft.source if path == draft.path else stored_source(path)


def render_draft(settings: Settings, draft: Draft, fields: Mapping[str, Any]) -> RenderedContent:
    """Render the draft with ``fields``, or raise :class:`TemplateError` with the reason.

    Call it inside an application context: other templates are read from the database.
    """
    problem = structure_problem(draft)
    if problem is not None:
        raise TemplateError(problem)

    lookup = partial(_draft_or_stored, draft)
    store = TemplateStore(templates_dir(settings.templates_dir), settings.default_locale, lookup)
    return store.render(draft.channel, draft.name, draft.locale, fields)


def file_source(settings: Settings, channel: str, name: str, locale: str) -> str | None:
    """The source of a template file under ``templates/``, if there is one."""
    path = templates_dir(settings.templates_dir) / template_path(channel, name, locale)
    if not path.is_file():
        return None
    return path.read_text(encoding='utf-8')
