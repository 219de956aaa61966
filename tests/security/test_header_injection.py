"""CR/LF never adds a header to a mail: subjects are folded, addresses and other headers refused."""

from collections.abc import Iterator, Mapping

import pytest
from flask import Flask

from notifier.channels.base import ChannelSettingsError, OutgoingMessage, SendStatus
from notifier_email_smtp.channel import EmailChannel
from tests.integration import queries
from tests.plugins.app import running_consumers, wait_for
from tests.plugins.smtp import RecordingHandler

EVIL = 'evil@example.com'
#: A title that, pasted into a header unchanged, would add two headers and a hidden recipient.
INJECTED_TITLE = 'Премьера\r\nX-Injected: yes\r\nBcc: {0}'.format(EVIL)
LINE_BREAKS = ('\r\n', '\n', '\r', '\x0b', '\x0c', '\x85', '\u2028', '\u2029')


def _message(recipient: str = 'petya@example.com', subject: str = 'Премьера', **headers: str) -> OutgoingMessage:
    return OutgoingMessage(
        delivery_id='5b0e7a4e-0000-4000-8000-000000000001',
        notification_id='n1',
        recipient=recipient,
        subject=subject,
        html='<p>Текст</p>',
        text='Текст',
        headers=headers,
    )


@pytest.fixture
def smtp_channel(smtp_server: RecordingHandler) -> Iterator[EmailChannel]:
    """The email channel of the plugin, sending to the in-process SMTP server."""
    channel = EmailChannel.from_environment({'url': 'smtp://127.0.0.1:{0}'.format(smtp_server.port)})
    assert isinstance(channel, EmailChannel)
    try:
        yield channel
    finally:
        channel.close()


def test_a_title_with_crlf_from_an_event_reaches_the_wire_as_one_subject_line(
    smtp_app: Flask, smtp_server: RecordingHandler,
) -> None:
    # Had the Bcc reached the envelope, this refusal would have failed the delivery instead of sending it.
    smtp_server.rcpt_replies[EVIL] = '550 5.1.1 not a recipient of this mail'
    body = {
        'meta': {'urgency': 'immediate', 'email': 'petya@example.com'},
        'type': 'info',
        'fields': {'title': INJECTED_TITLE, 'text': 'Смотрите сегодня'},
    }
    with running_consumers(smtp_app):
        accepted = queries.post_event(smtp_app.test_client(), body).json
        wait_for(lambda: queries.sent_delivery(smtp_app, accepted['id']), what='the info mail')

    assert len(smtp_server.messages) == 1
    mail = smtp_server.messages[0]
    assert mail['Subject'] == 'Премьера X-Injected: yes Bcc: {0}'.format(EVIL)
    assert mail['X-Injected'] is None
    assert mail['To'] == 'petya@example.com'


@pytest.mark.parametrize('line_break', LINE_BREAKS, ids=[repr(line_break) for line_break in LINE_BREAKS])
def test_the_email_channel_folds_a_subject_whatever_line_break_it_holds(
    smtp_channel: EmailChannel, smtp_server: RecordingHandler, line_break: str,
) -> None:
    subject = 'Премьера{0}X-Injected: yes'.format(line_break)

    sent = smtp_channel.send(_message(subject=subject))

    assert sent.status == SendStatus.sent
    mail = smtp_server.messages[0]
    assert mail['Subject'] == 'Премьера X-Injected: yes'
    assert mail['X-Injected'] is None


@pytest.mark.parametrize(('recipient', 'headers', 'reason'), [
    ('petya@example.com\r\nBcc: {0}'.format(EVIL), {}, 'invalid email address'),
    ('petya@example.com\nX-Injected: yes', {}, 'invalid email address'),
    ('petya@example.com\u2028X-Injected: yes', {}, 'invalid email address'),
    ('petya@example.com', {'List-Unsubscribe': '<https://c.example/u>\r\nBcc: {0}'.format(EVIL)}, 'refused header'),
    ('petya@example.com', {'X-Tag\r\nBcc': EVIL}, 'refused header'),
    ('petya@example.com', {'Bcc: {0}\r\nX-Tag'.format(EVIL): 'a'}, 'refused header'),
])
def test_an_address_or_header_that_would_add_a_header_is_refused_for_good(
    smtp_channel: EmailChannel,
    smtp_server: RecordingHandler,
    recipient: str,
    headers: Mapping[str, str],
    reason: str,
) -> None:
    sent = smtp_channel.send(_message(recipient=recipient, **headers))

    assert sent.status == SendStatus.permanent_failure
    assert sent.detail.startswith(reason)
    assert smtp_server.messages == []


def test_a_from_address_over_two_lines_stops_the_channel_at_start() -> None:
    with pytest.raises(ChannelSettingsError, match='must be one line'):
        EmailChannel.from_environment({'from': 'Cinema <noreply@cinema.example>\r\nBcc: {0}'.format(EVIL)})
