"""The email plugin builds mails a strict parser accepts, with a deterministic Message-ID."""

from email import message_from_bytes, policy
from pathlib import Path

from notifier.channels.base import OutgoingMessage, SendStatus
from notifier_email_smtp.channel import EmailChannel
from notifier_email_smtp.mime import build_mail, is_valid_address, message_id_for, readdressed

MESSAGE = OutgoingMessage(
    delivery_id='6f1c1c52-0000-4000-8000-000000000001',
    notification_id='n1',
    recipient='vasya@example.com',
    subject='Привет, Вася! ' * 10,
    html='<h1>Привет Вася!</h1>',
    text='Привет Вася!',
)


def test_mail_parses_strictly_with_both_bodies() -> None:
    raw = build_mail(MESSAGE, 'Cinema <noreply@cinema.example>').wire

    parsed = message_from_bytes(raw, policy=policy.strict)

    assert parsed['To'] == 'vasya@example.com'
    assert parsed['Subject'] == MESSAGE.subject
    assert parsed['Message-ID'] == '<6f1c1c52-0000-4000-8000-000000000001@cinema.example>'
    assert parsed.get_body(preferencelist=('html',)).get_content().strip() == '<h1>Привет Вася!</h1>'
    assert parsed.get_body(preferencelist=('plain',)).get_content().strip() == 'Привет Вася!'
    assert all(len(line) <= 998 for line in raw.split(b'\r\n'))


def test_message_id_is_the_same_for_the_same_delivery() -> None:
    first = message_id_for(MESSAGE.delivery_id, 'noreply@cinema.example')

    assert first == message_id_for(MESSAGE.delivery_id, 'Other <noreply@cinema.example>')


def test_address_check() -> None:
    assert is_valid_address('a@example.com')
    assert not is_valid_address('nobody')
    assert not is_valid_address('a@localhost')
    assert not is_valid_address('a@example.com, b@example.com')


def test_file_transport_writes_one_eml_per_delivery(tmp_path: Path) -> None:
    channel = EmailChannel.from_environment({'url': 'file://{0}'.format(tmp_path)})

    first = channel.send(MESSAGE)
    again = channel.send(MESSAGE)

    assert first.status == again.status == SendStatus.sent
    assert [path.name for path in tmp_path.iterdir()] == ['{0}.eml'.format(MESSAGE.delivery_id)]


def test_an_invalid_address_is_a_permanent_failure(tmp_path: Path) -> None:
    channel = EmailChannel.from_environment({'url': 'file://{0}'.format(tmp_path)})

    sent = channel.send(OutgoingMessage('d', 'n', 'not-an-address', 's', '', 't'))

    assert sent.status == SendStatus.permanent_failure
    assert "invalid email address 'not-an-address'" in sent.detail


def test_a_mail_readdressed_in_idna_changes_its_to_header_only() -> None:
    mail = build_mail(OutgoingMessage(
        delivery_id=MESSAGE.delivery_id, notification_id='n1', recipient='ivan@пример.рф',
        subject='To: ivan@пример.рф', html='', text='To: ivan@пример.рф',
    ), 'Cinema <noreply@cinema.example>')

    sent = readdressed(mail, 'ivan@xn--e1afmkfd.xn--p1ai')

    head = sent.wire.partition(b'\r\n\r\n')[0]
    assert head.isascii()
    assert head.split(b'\r\n')[1] == b'To: ivan@xn--e1afmkfd.xn--p1ai'
    assert sent.wire.replace(b'xn--e1afmkfd.xn--p1ai', 'пример.рф'.encode(), 1) == mail.wire
    assert readdressed(mail, mail.recipient) is mail
