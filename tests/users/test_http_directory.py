"""The HTTP adapter against the reference user service: one call per batch, keyset pages, replica lag."""

import socket

import pytest

from notifier.users import DirectoryUnavailableError, HttpUserDirectory
from tests.users.reference_server import ReferenceDirectory, serving


def _people(directory: ReferenceDirectory, count: int) -> None:
    for number in range(count):
        directory.add(
            'u{0:03d}'.format(number),
            segments=('subscribers',) if number % 2 else (),
            email='user{0}@example.com'.format(number),
            name='User {0}'.format(number),
            locale='ru',
            time_zone='Europe/Moscow',
            push_tokens=['token-{0}'.format(number)],
            registered_at='2026-01-0{0}T10:00:00+00:00'.format(number % 9 + 1),
        )


def test_get_one_user_and_an_unknown_one(reference_users: ReferenceDirectory) -> None:
    _people(reference_users, 3)
    users = HttpUserDirectory(reference_users.url)

    found = users.get('u001')

    assert found is not None
    assert (found.email, found.name, found.time_zone, found.push_tokens) == (
        'user1@example.com', 'User 1', 'Europe/Moscow', ('token-1',),
    )
    assert found.registered_at is not None and found.registered_at.tzinfo is not None
    assert users.get('nobody') is None


def test_many_users_are_fetched_in_one_call_and_unknown_ids_are_left_out(reference_users: ReferenceDirectory) -> None:
    _people(reference_users, 20)
    users = HttpUserDirectory(reference_users.url)

    found = users.get_many(['u003', 'u007', 'gone', 'u003'])

    assert sorted(found) == ['u003', 'u007']
    assert reference_users.requests == ['POST /api/v1/users/batch']


def test_a_segment_is_paged_with_a_keyset_cursor(reference_users: ReferenceDirectory) -> None:
    _people(reference_users, 10)
    users = HttpUserDirectory(reference_users.url)
    seen = []
    cursor = None
    while True:
        page = users.page('subscribers', cursor, 2)
        seen.extend(user.id for user in page.users)
        cursor = page.next_cursor
        if cursor is None:
            break

    assert seen == ['u001', 'u003', 'u005', 'u007', 'u009']
    assert users.page('no-such-segment', None, 10).users == ()


def test_bulk_reads_use_the_replica_and_ask_the_primary_for_what_it_lacks(reference_users: ReferenceDirectory) -> None:
    _people(reference_users, 3)
    reference_users.add('fresh', email='fresh@example.com')  # registered a moment ago: not on the replica yet
    replica = ReferenceDirectory()
    _people(replica, 3)
    with serving(replica):
        users = HttpUserDirectory(reference_users.url, replica_url=replica.url)

        found = users.get_many(['u000', 'fresh'])
        page = users.page('all', None, 10)

    assert sorted(found) == ['fresh', 'u000']
    assert replica.requests == ['POST /api/v1/users/batch', 'GET /api/v1/users?segment=all&limit=10']
    assert reference_users.requests == ['POST /api/v1/users/batch']
    assert [user.id for user in page.users] == ['u000', 'u001', 'u002']


@pytest.mark.parametrize('status', [500, 503, 429, 401])
def test_an_error_answer_is_unavailability(reference_users: ReferenceDirectory, status: int) -> None:
    reference_users.failures.append(status)

    with pytest.raises(DirectoryUnavailableError, match='HTTP {0}'.format(status)):
        HttpUserDirectory(reference_users.url).get_many(['u1'])


def test_an_unreachable_directory_is_unavailability() -> None:
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        port = probe.getsockname()[1]
    users = HttpUserDirectory('http://127.0.0.1:{0}/api/v1/users'.format(port), timeout=2)

    with pytest.raises(DirectoryUnavailableError, match='unreachable'):
        users.get('u1')


def test_a_malformed_user_is_unavailability_not_a_crash(reference_users: ReferenceDirectory) -> None:
    reference_users.add('u1', email='not an address')

    with pytest.raises(DirectoryUnavailableError, match='malformed'):
        HttpUserDirectory(reference_users.url).get('u1')
