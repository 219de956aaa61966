"""How many SMS a text takes: GSM-7 160/153, UCS-2 (Cyrillic) 70/67, extension characters count twice."""

import pytest

from notifier_sms_stub.segments import segment_count


@pytest.mark.parametrize(('text', 'segments'), [
    ('', 0),
    ('a' * 160, 1),
    ('a' * 161, 2),
    ('a' * 306, 2),
    ('a' * 307, 3),
    ('{' * 80, 1),
    ('{' * 81, 2),
    ('я' * 70, 1),
    ('я' * 71, 2),
    ('я' * 134, 2),
    ('я' * 135, 3),
    ('{0}я'.format('a' * 159), 3),
    ('🎬' * 35, 1),
    ('🎬' * 36, 2),
])
def test_segment_count(text: str, segments: int) -> None:
    assert segment_count(text) == segments
