"""NOTIFIER_BROKER_URL with the nodes of a cluster: parsing, the order tried, every password masked."""

import pytest

from notifier.errors import SettingsError
from notifier.observability.logs import redact
from notifier.pipeline.broker_nodes import connection_parameters, rotated
from notifier.pipeline.broker_errors import node_urls, redact_url
from notifier.settings import load_settings

CLUSTER = 'amqp://app:first-secret@rmq1:5672/%2F, amqp://app:second-secret@rmq2:5672/%2F,amqps://app:third@rmq3/%2F'


def test_a_list_of_nodes_is_split_on_commas_and_blanks_are_ignored() -> None:
    assert node_urls('{0},'.format(CLUSTER)) == [
        'amqp://app:first-secret@rmq1:5672/%2F',
        'amqp://app:second-secret@rmq2:5672/%2F',
        'amqps://app:third@rmq3/%2F',
    ]
    assert node_urls('amqp://guest:guest@127.0.0.1:5672/%2F') == ['amqp://guest:guest@127.0.0.1:5672/%2F']


def test_every_node_becomes_pika_parameters_with_the_same_settings() -> None:
    nodes = connection_parameters(CLUSTER, 'notifier test', heartbeat=7)

    assert [(node.host, node.port) for node in nodes] == [('rmq1', 5672), ('rmq2', 5672), ('rmq3', 5671)]
    assert {node.heartbeat for node in nodes} == {7}
    assert {node.credentials.password for node in nodes} == {'first-secret', 'second-secret', 'third'}
    assert all(node.client_properties == {'connection_name': 'notifier test'} for node in nodes)


def test_rotation_tries_every_node_once_starting_anywhere() -> None:
    nodes = connection_parameters(CLUSTER, 'notifier test', heartbeat=7)

    assert [node.host for node in rotated(nodes, 1)] == ['rmq2', 'rmq3', 'rmq1']
    assert [node.host for node in rotated(nodes, 5)] == ['rmq3', 'rmq1', 'rmq2']


def test_every_password_of_the_list_is_masked_in_messages() -> None:
    masked = redact_url(CLUSTER)

    assert masked == (
        'amqp://app:***@rmq1:5672/%2F,amqp://app:***@rmq2:5672/%2F,amqps://app:***@rmq3/%2F'
    )
    assert redact_url('amqp://rmq1:5672/%2F,amqp://app:pw@rmq2/%2F') == 'amqp://rmq1:5672/%2F,amqp://app:***@rmq2/%2F'


def test_every_password_of_the_list_is_masked_in_log_lines() -> None:
    line = redact('cannot reach RabbitMQ at {0}: connection refused'.format(CLUSTER))

    for secret in ('first-secret', 'second-secret', 'third'):
        assert secret not in line
    assert line.count('app:***@') == 3


@pytest.mark.parametrize('url', ['amqp://rmq1/%2F,http://rmq2/', ' , '])
def test_a_list_with_a_node_that_is_not_amqp_is_refused(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv('NOTIFIER_BROKER_URL', url)

    with pytest.raises(SettingsError, match='NOTIFIER_BROKER_URL: Value error, must be an amqp://'):
        load_settings()


def test_a_list_of_nodes_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('NOTIFIER_BROKER_URL', CLUSTER)

    assert load_settings().broker_url == CLUSTER
