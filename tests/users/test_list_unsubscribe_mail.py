"""The email plugin writes List-Unsubscribe as clients read it: one unencoded line, however long the URL."""

from email import message_from_bytes, policy

from notifier.channels.base import OutgoingMessage
from notifier.preferences.unsubscribe import UnsubscribeLinks
from notifier_email_smtp.mime import build_mail

LONGEST_ADDRESS = '{0}@{1}.example'.format('a' * 64, 'b' * 240)
LONG_SUBJECT = ' '.join('Очень длинная тема письма' for _ in range(5))


def _raw_mail(headers: dict[str, str], subject: str = 'Премьера') -> bytes:
    message = OutgoingMessage('delivery', 'notification', 'x@example.com', subject, '<p>h</p>', 't', headers=headers)
    return build_mail(message, 'Cinema <noreply@cinema.example>').wire


def test_a_long_unsubscribe_url_stays_one_unencoded_line() -> None:
    links = UnsubscribeLinks(secret=b'k', base_url='https://notify.cinema.example')
    url = links.url('email:{0}'.format(LONGEST_ADDRESS), 'marketing')

    raw = _raw_mail(links.headers(url), subject=LONG_SUBJECT)

    header_lines = raw.split(b'\r\n\r\n', 1)[0].split(b'\r\n')
    assert 'List-Unsubscribe: <{0}>'.format(url).encode() in header_lines
    assert b'List-Unsubscribe-Post: List-Unsubscribe=One-Click' in header_lines
    assert max(len(line) for line in raw.split(b'\r\n')) <= 998
    parsed = message_from_bytes(raw, policy=policy.strict)
    assert parsed['List-Unsubscribe'] == '<{0}>'.format(url)
    assert parsed['Subject'] == LONG_SUBJECT


def test_other_headers_fold_as_before() -> None:
    raw = _raw_mail({'X-Note': 'слово ' * 40})

    assert b'=?utf-8?' in raw  # non-ASCII headers are still encoded words
    assert max(len(line) for line in raw.split(b'\r\n')) <= 78
