"""Mail headers that stay on their lines: folding, encoded words, and refusing what would add a header.

No text of a message can add a header: the subject is folded onto one line
(a rendered template or an event's field may hold CR or LF), and a header
whose name or value would end its line is refused (:class:`HeaderInjectionError`).
"""

import re
from email.header import Header
from functools import lru_cache
from email.utils import formataddr, parseaddr
from typing import Final

#: Headers whose value is one or more ``<URL>``: a mail client reads them verbatim (RFC 2369).
URL_HEADERS: Final = frozenset(('list-unsubscribe', 'list-unsubscribe-post'))
#: RFC 5322's hard limit of a line, CRLF excluded.
MAX_LINE_LENGTH: Final = 998
#: RFC 5322's recommended limit, which folded headers keep.
MAX_FOLDED_LENGTH: Final = 78
#: Encoded header lines kept (a mailing repeats its subject for every recipient).
ENCODED_CACHE_SIZE: Final = 256
#: Every character ``str.splitlines`` breaks at (CR and LF among them), and NUL.
LINE_BREAKS: Final = frozenset('\r\n\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029')
#: RFC 5322 2.2: a header name is printable US-ASCII other than the colon.
HEADER_NAME: Final = re.compile('[!-9;-~]+')


class HeaderInjectionError(ValueError):
    """A header name or value that would end its line and so start another header."""


def one_line(text: str) -> str:
    """``text`` as one header line: each line break (CR, LF, CRLF, U+2028...) becomes a space."""
    return ' '.join(text.splitlines())


def checked_header(name: str, header_value: str) -> str:
    """The value of a header whose name and value stay on their line, or :class:`HeaderInjectionError`."""
    if not HEADER_NAME.fullmatch(name) or not LINE_BREAKS.isdisjoint(header_value):
        raise HeaderInjectionError('refused header {0!r}: its name or value would start another header'.format(name))
    return header_value


def header_line(name: str, header_value: str) -> str:
    """One header, folded: as it is when short ASCII, encoded words when not ASCII; URL headers verbatim."""
    if _verbatim(name, header_value):
        return '{0}: {1}\r\n'.format(name, header_value)
    fits = len(name) + len(': ') + len(header_value) <= MAX_FOLDED_LENGTH
    if fits and header_value.isascii():
        return '{0}: {1}\r\n'.format(name, header_value)
    return _encoded_line(name, header_value)


@lru_cache(maxsize=ENCODED_CACHE_SIZE)
def _encoded_line(name: str, header_value: str) -> str:
    """Folded encoded words: kept, since a mailing's subject is the same for every recipient."""
    charset = 'us-ascii' if header_value.isascii() else 'utf-8'
    folded = Header(header_value, charset, header_name=name).encode(linesep='\r\n')
    return '{0}: {1}\r\n'.format(name, folded)


def address_header(address: str) -> str:
    """A ``Name <address>`` with a non-ASCII name as an encoded word."""
    if address.isascii():
        return address
    display_name, bare = parseaddr(address)
    return formataddr((display_name, bare), charset='utf-8')


def _verbatim(name: str, header_value: str) -> bool:
    """A URL header (RFC 2369) of plain ASCII that fits one line stays unencoded: clients read it verbatim.

    A signed unsubscribe URL has no space to fold at; encoded words there are not decoded by mail
    clients, and the one-click button would not work.
    """
    if name.lower() not in URL_HEADERS or not header_value.isascii():
        return False
    fits = len(name) + len(': ') + len(header_value) <= MAX_LINE_LENGTH
    return fits and not set('\r\n') & set(header_value)
