"""The broker's errors, and the URL redaction every message about the broker uses."""

from urllib.parse import urlsplit, urlunsplit

from notifier.errors import StartupError


class BrokerUnavailableError(StartupError):
    """RabbitMQ cannot be reached or refuses us."""


class BrokerError(RuntimeError):
    """Talking to RabbitMQ failed after the connection was made."""


class PublishError(BrokerError):
    """The broker did not take responsibility for a message (unroutable or nacked).

    ``refused`` names the message ids it returned, when it said which; the other messages of
    the same publish went out.
    """

    def __init__(self, message: str, refused: tuple[str | None, ...] = ()) -> None:
        """Say what was refused."""
        super().__init__(message)
        self.refused = refused


class BrokerConnectionLostError(BrokerError):
    """The connection or channel broke; reconnect and carry on (unacked messages come back)."""


def redact_url(url: str) -> str:
    """The URL with its password replaced by ``***``, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = '{0}:***@{1}'.format(parts.username, parts.hostname)
    if parts.port:
        netloc = '{0}:{1}'.format(netloc, parts.port)
    return urlunsplit(parts._replace(netloc=netloc))
