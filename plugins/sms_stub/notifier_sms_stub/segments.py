"""How many SMS segments a text needs (GSM 03.38 7-bit alphabet, else UCS-2).

A text made only of GSM-7 characters fits 160 characters in one SMS, 153 per
part when it is split (7 bytes of each part are the concatenation header).
Any other character (Cyrillic, most emoji) switches the whole text to UCS-2:
70 characters in one SMS, 67 per part. Characters of the GSM-7 extension
table (braces, brackets, tilde, backslash, bar, caret, euro sign, form feed) take two places. Emoji outside the
Basic Multilingual Plane take two UCS-2 places.
"""

import math
from typing import Final

GSM7_SINGLE: Final = 160
GSM7_PART: Final = 153
UCS2_SINGLE: Final = 70
UCS2_PART: Final = 67
_BMP_LIMIT: Final = 0xFFFF

GSM7_BASIC: Final = frozenset(
    '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?'
    '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
)
GSM7_EXTENSION: Final = frozenset('\f^{}[~]|€\N{REVERSE SOLIDUS}')


def _gsm7_length(text: str) -> int | None:
    """Septets the text takes in GSM-7, or ``None`` when it has a character GSM-7 lacks."""
    length = 0
    for char in text:
        if char in GSM7_BASIC:
            length += 1
        elif char in GSM7_EXTENSION:
            length += 2
        else:
            return None
    return length


def _ucs2_length(text: str) -> int:
    return sum(2 if ord(char) > _BMP_LIMIT else 1 for char in text)


def segment_count(text: str) -> int:
    """The number of SMS the text is sent as (0 for an empty text)."""
    gsm_length = _gsm7_length(text)
    if gsm_length is not None:
        single, part, length = GSM7_SINGLE, GSM7_PART, gsm_length
    else:
        single, part, length = UCS2_SINGLE, UCS2_PART, _ucs2_length(text)
    if length <= single:
        return 1 if length else 0
    return math.ceil(length / part)
