"""The nodes of ``NOTIFIER_BROKER_URL`` as pika's connection parameters, and the order a connection tries them.

pika's ``BlockingConnection`` takes a sequence of parameters and tries them in
order, moving to the next node on any failure (refused, timed out, handshake
refused); it raises only when none answered.
"""

from collections.abc import Sequence

import pika

from notifier.pipeline.broker_errors import node_urls

BLOCKED_TIMEOUT_SECONDS = 60
#: Rounds over the whole node list per open; the reconnect loop (pipeline/reconnect.py) does the waiting.
CONNECT_ATTEMPTS = 1


def connection_parameters(url: str, connection_name: str, heartbeat: int) -> list[pika.URLParameters]:
    """pika's parameters of every node of ``url`` (one URL, or several separated by commas), in order."""
    nodes = []
    for node in node_urls(url):
        node_parameters = pika.URLParameters(node)
        node_parameters.heartbeat = heartbeat
        node_parameters.blocked_connection_timeout = BLOCKED_TIMEOUT_SECONDS
        node_parameters.connection_attempts = CONNECT_ATTEMPTS
        node_parameters.client_properties = {'connection_name': connection_name}
        nodes.append(node_parameters)
    return nodes


def rotated(nodes: Sequence[pika.URLParameters], start: int) -> list[pika.URLParameters]:
    """The nodes starting at ``start``, then the ones before it: every node once."""
    start %= len(nodes)
    return [*nodes[start:], *nodes[:start]]
