"""The broker's errors, the node list of ``NOTIFIER_BROKER_URL`` and the redaction every message about it uses."""

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


#: ``NOTIFIER_BROKER_URL`` lists the nodes of a cluster separated by commas.
NODE_SEPARATOR = ','


def node_urls(url: str) -> list[str]:
    """The node URLs of a broker URL: one, or several separated by commas (blanks around them ignored)."""
    return [node.strip() for node in url.split(NODE_SEPARATOR) if node.strip()]


def redact_url(url: str) -> str:
    """The URL (or each URL of a comma-separated list) with its password replaced by ``***``."""
    nodes = node_urls(url)
    if len(nodes) > 1:
        return NODE_SEPARATOR.join(_redact_one(node) for node in nodes)
    return _redact_one(url)


def _redact_one(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = '{0}:***@{1}'.format(parts.username, parts.hostname)
    if parts.port:
        netloc = '{0}:{1}'.format(netloc, parts.port)
    return urlunsplit(parts._replace(netloc=netloc))
