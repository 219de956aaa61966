"""A mailing's audience as a manager names it: everyone, a segment, or a file of user ids.

The stored shape is the one the expansion reads (``notifier/pipeline/audience.py``):
``{"segment": "all"}``, ``{"segment": NAME}`` or ``{"user_ids": [...]}``.
"""

import csv
import io
from collections.abc import Mapping
from typing import Any, Final

from notifier.users.directory import EVERYONE

#: The most user ids one uploaded file may name (a bigger audience is a segment).
MAX_FILE_USERS: Final = 10000
MAX_USER_ID_LENGTH: Final = 64
#: A first row with one of these in its first cell is a header, not a user.
HEADER_CELLS: Final = frozenset(('id', 'user_id', 'user id', 'userid'))


class AudienceFileError(ValueError):
    """The uploaded file cannot be read as a list of user ids; the message says why."""


def describe_audience(audience: Mapping[str, Any]) -> str:
    """The audience in a few words, for lists and confirmations."""
    user_ids = audience.get('user_ids')
    if user_ids is not None:
        return '{0} user(s) from an uploaded file'.format(len(user_ids))
    emails = audience.get('emails')
    if emails is not None:
        return '{0} address(es)'.format(len(emails))
    segment = audience.get('segment', EVERYONE)
    if segment == EVERYONE:
        return 'every user'
    return 'segment {0}'.format(segment)


def _text_of(raw: bytes) -> str:
    try:
        return raw.decode('utf-8-sig')
    except UnicodeDecodeError:
        raise AudienceFileError('the file is not UTF-8 text') from None


def user_ids_from_file(raw: bytes) -> list[str]:
    """The user ids of a CSV file: the first cell of each row (a header row is skipped), each id once."""
    rows = csv.reader(io.StringIO(_text_of(raw)))
    first_cells = (row[0].strip() for row in rows if row)
    cells = [cell for cell in first_cells if cell]
    if cells and cells[0].lower() in HEADER_CELLS:
        cells = cells[1:]
    user_ids = list(dict.fromkeys(cells))
    if not user_ids:
        raise AudienceFileError('the file names no user ids (one id per line, or a CSV whose first column is the id)')
    if len(user_ids) > MAX_FILE_USERS:
        raise AudienceFileError('the file names {0} users; at most {1} (use a segment for more)'.format(
            len(user_ids), MAX_FILE_USERS,
        ))
    too_long = next((user_id for user_id in user_ids if len(user_id) > MAX_USER_ID_LENGTH), None)
    if too_long is not None:
        raise AudienceFileError('{0!r}… is not a user id (at most {1} characters)'.format(
            too_long[:MAX_USER_ID_LENGTH], MAX_USER_ID_LENGTH,
        ))
    return user_ids
