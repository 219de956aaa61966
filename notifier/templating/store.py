"""The template store: sandboxed Jinja over files, overridable from the database.

A template defines the blocks ``subject``, ``html`` and optionally ``text``
(see ``templates/README.md``). Rendering errors are :class:`TemplateError`
with a reason a manager can act on; the pipeline treats them as permanent.
"""

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from notifier.templating.budget import RenderBudget, RenderLimitError, budgeted_range, collect, limit_reason
from notifier.templating.plaintext import html_to_text

#: Looks up a stored template's source by its store name; ``None`` when there is none.
SourceLookup = Callable[[str], str | None]
#: The blocks every channel knows; a template's other blocks travel in ``RenderedContent.blocks``.
STANDARD_BLOCKS = frozenset(('subject', 'html', 'text'))  # noqa: WPS226 - the block names are the contract


class TemplateError(ValueError):
    """A template is missing, broken, or needs a field the event did not give."""


@dataclass(frozen=True)
class RenderedContent:
    """What a channel sends: subject, HTML body and plain-text body."""

    subject: str
    html: str
    text: str
    #: The template's other blocks (push: ``data``), stripped.
    blocks: Mapping[str, str] = field(default_factory=dict)


#: Separates a store name from the moment whose version it means: ``email/info.ru.html@2026-11-27T10:00:00``.
AS_OF = '@'


def template_path(channel: str, name: str, locale: str, as_of: dt.datetime | None = None) -> str:
    """The store name of a template: ``<channel>/<name>.<locale>.html``, pinned to a moment when given.

    A mailing renders every recipient's message with the versions that were newest
    when it started, whatever a manager saves meanwhile.
    """
    path = '{0}/{1}.{2}.html'.format(channel, name, locale)
    return path if as_of is None else '{0}{1}{2}'.format(path, AS_OF, as_of.isoformat())


def unpinned(path: str) -> str:
    """The store name without the moment it is pinned to."""
    return path.partition(AS_OF)[0]


class _FileLoader(jinja2.FileSystemLoader):
    """Files have one version: a pinned name means the file itself."""

    def get_source(
        self, environment: jinja2.Environment, template: str,
    ) -> tuple[str, str, Callable[[], bool]]:
        return super().get_source(environment, unpinned(template))


class _StoredLoader(jinja2.BaseLoader):
    """Loads templates from the database through a lookup function."""

    def __init__(self, lookup: SourceLookup) -> None:
        self._lookup = lookup

    def get_source(
        self, environment: jinja2.Environment, template: str,
    ) -> tuple[str, str | None, Callable[[], bool]]:
        source = self._lookup(template)
        if source is None:
            raise jinja2.TemplateNotFound(template)
        return source, None, lambda: self._lookup(template) == source


class TemplateStore:
    """Renders a channel's template for one recipient."""

    def __init__(
        self,
        templates_dir: Path,
        default_locale: str,
        stored_lookup: SourceLookup | None = None,
        filters: Mapping[str, Callable[..., Any]] | None = None,
    ) -> None:
        """Files come from ``templates_dir``; ``stored_lookup`` finds database overrides; ``filters`` are added."""
        loaders: list[jinja2.BaseLoader] = [_FileLoader(str(templates_dir))]
        if stored_lookup is not None:
            loaders.insert(0, _StoredLoader(stored_lookup))
        self._default_locale = default_locale
        self._environment = SandboxedEnvironment(
            loader=jinja2.ChoiceLoader(loaders),
            autoescape=jinja2.select_autoescape(['html']),
            undefined=jinja2.StrictUndefined,
            auto_reload=stored_lookup is not None,
        )
        self._environment.filters.update(filters or {})
        self._environment.globals['range'] = budgeted_range

    def render(
        self,
        channel: str,
        name: str,
        locale: str,
        fields: Mapping[str, Any],
        as_of: dt.datetime | None = None,
    ) -> RenderedContent:
        """Render subject, HTML and text, or raise :class:`TemplateError` with the reason.

        ``as_of`` renders the stored versions that were newest then (a running mailing's).
        """
        template = self._load(channel, name, (locale, self._default_locale), as_of)
        try:
            with RenderBudget():
                context = template.new_context(dict(fields))
                blocks = {
                    block_name: Markup(collect(render_block(context))).unescape()
                    if block_name != 'html' else collect(render_block(context))
                    for block_name, render_block in template.blocks.items()
                }
        except (RenderLimitError, RecursionError) as error:
            raise TemplateError('template {0!r} {1}'.format(name, limit_reason(error))) from None
        except jinja2.UndefinedError as error:
            raise TemplateError('template {0!r} needs a field the event did not give: {1}'.format(
                name, error.message,
            )) from None
        except jinja2.TemplateError as error:
            raise TemplateError('template {0!r} failed to render: {1}'.format(name, error)) from None
        html = blocks.get('html', '').strip()
        text = blocks.get('text', '').strip() or html_to_text(html)
        return RenderedContent(
            subject=' '.join(blocks.get('subject', '').split()),
            html=html,
            text=text,
            blocks={
                block_name: block_text.strip()
                for block_name, block_text in blocks.items()
                if block_name not in STANDARD_BLOCKS
            },
        )

    def _load(
        self, channel: str, name: str, locales: tuple[str, str], as_of: dt.datetime | None,
    ) -> jinja2.Template:
        """The template in the recipient's locale, else in the default locale."""
        candidates = [template_path(channel, name, locale, as_of) for locale in dict.fromkeys(locales)]
        try:
            return self._environment.select_template(candidates)
        except jinja2.TemplatesNotFound:
            raise TemplateError('no template {0!r} for channel {1} (looked for {2})'.format(
                name, channel, ', '.join(unpinned(candidate) for candidate in candidates),
            )) from None
        except jinja2.TemplateSyntaxError as error:
            raise TemplateError('template {0!r} has a syntax error at line {1}: {2}'.format(
                name, error.lineno, error.message,
            )) from None
