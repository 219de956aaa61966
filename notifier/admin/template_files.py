"""The template files under ``templates/``: ``<channel>/<name>.<locale>.html``."""

from notifier.paths import templates_dir
from notifier.settings import Settings

_NAME_PARTS = 3


def file_templates(settings: Settings) -> list[tuple[str, str, str]]:
    """``(channel, name, locale)`` of every template file, sorted."""
    root = templates_dir(settings.templates_dir)
    if not root.is_dir():
        return []
    found: list[tuple[str, str, str]] = []
    for path in root.glob('*/*.html'):
        parts = path.name.rsplit('.', 2)
        if len(parts) == _NAME_PARTS:
            found.append((path.parent.name, parts[0], parts[1]))
    return sorted(found)
