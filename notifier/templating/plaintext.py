"""A plain-text version of an HTML body, for mails whose template has no ``text`` block."""

from html.parser import HTMLParser

_SKIPPED_TAGS = frozenset(('head', 'style', 'script', 'title'))
_BLOCK_TAGS = frozenset(('p', 'br', 'div', 'h1', 'h2', 'h3', 'h4', 'li', 'tr'))


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping += 1
        elif tag in _BLOCK_TAGS:
            self.chunks.append('\n')

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.chunks.append('\n')

    def handle_data(self, data: str) -> None:  # noqa: WPS110 - the name HTMLParser calls
        if not self._skipping:
            self.chunks.append(data)


def html_to_text(html: str) -> str:
    """The visible text of an HTML document, one paragraph per line."""
    collector = _TextCollector()
    collector.feed(html)
    raw_lines = ''.join(collector.chunks).splitlines()
    lines = [' '.join(line.split()) for line in raw_lines]
    return '\n'.join(line for line in lines if line)
