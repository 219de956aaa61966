"""The HTTP adapter: the cinema's auth service (contract in ``docs/user-directory.md``).

Single lookups go to the primary. Batch and segment reads go to the read
replica when one is configured (``NOTIFIER_USERS_REPLICA_URL``); ids the
replica does not know yet (replication lag: a user who registered a moment
ago) are asked of the primary before anyone is declared gone.
"""

import json
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any
from urllib.parse import quote, urlencode

import urllib3
from marshmallow import ValidationError

from notifier.users.directory import (
    EVERYONE,
    MAX_BATCH,
    DirectoryUnavailableError,
    UserPage,
    UserProfile,
    chunks,
)
from notifier.users.records import load_record, profile_from_record

DEFAULT_TIMEOUT_SECONDS = 5.0
#: Connections kept per host: a consumer asks one batch at a time, so a few are plenty.
POOL_SIZE = 4
#: A JSON object as ``json.loads`` returns it.
JsonObject = dict[str, Any]


class HttpUserDirectory:
    """Reads users from the auth service, with bounded timeouts and no retries of its own.

    The pipeline owns retries (delay queues), so a failed call raises at once.
    """

    def __init__(
        self,
        url: str,
        replica_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        token: str | None = None,
    ) -> None:
        """``url`` is the users collection, e.g. ``https://auth.internal/api/v1/users``."""
        self._url = url.rstrip('/')
        self._bulk_url = (replica_url or url).rstrip('/')
        self._headers = {'Accept': 'application/json', 'Content-Type': 'application/json'}
        if token:
            self._headers['Authorization'] = 'Bearer {0}'.format(token)
        self._pool = urllib3.PoolManager(
            maxsize=POOL_SIZE,
            timeout=urllib3.Timeout(total=timeout),
            retries=False,
        )

    def get(self, user_id: str) -> UserProfile | None:
        """``GET {url}/{id}``: the user, or ``None`` on 404."""
        answer = self._call('GET', '{0}/{1}'.format(self._url, quote(user_id, safe='')))
        if answer is None:
            return None
        return _profile(answer)

    def get_many(self, user_ids: Sequence[str]) -> Mapping[str, UserProfile]:
        """``POST {url}/batch {"ids": [...]}``, replica first, primary for the ids it lacks."""
        found = self._batch(self._bulk_url, user_ids)
        if self._bulk_url != self._url:
            lagging = [user_id for user_id in dict.fromkeys(user_ids) if user_id not in found]
            if lagging:
                found.update(self._batch(self._url, lagging))
        return found

    def page(self, segment: str, after: str | None, limit: int) -> UserPage:
        """``GET {url}?segment=…&after=…&limit=…`` on the replica (or the primary)."""
        query = {'segment': segment, 'limit': str(max(1, min(limit, MAX_BATCH)))}
        if after is not None:
            query['after'] = after
        answer = self._call('GET', '{0}?{1}'.format(self._bulk_url, urlencode(query)))
        if answer is None:
            return UserPage()  # an unknown segment has no users
        next_cursor = answer.get('next_cursor')
        if next_cursor is not None and not isinstance(next_cursor, str):
            raise DirectoryUnavailableError('user directory sent a next_cursor that is not a string')
        return UserPage(users=tuple(_profiles(answer)), next_cursor=next_cursor)

    def ping(self) -> None:
        """A cheap read (one user of the segment ``all``) on the primary and the replica; raises when one fails.

        A circuit breaker probes with it (``docs/failover.md``).
        """
        query = urlencode({'segment': EVERYONE, 'limit': '1'})
        for base_url in dict.fromkeys((self._url, self._bulk_url)):
            self._call('GET', '{0}?{1}'.format(base_url, query))

    def close(self) -> None:
        """Close the pooled connections."""
        self._pool.clear()

    def _batch(self, base_url: str, user_ids: Sequence[str]) -> dict[str, UserProfile]:
        found: dict[str, UserProfile] = {}
        for batch in chunks(user_ids):
            answer = self._call('POST', '{0}/batch'.format(base_url), {'ids': list(batch)})
            found.update((profile.id, profile) for profile in _profiles(answer or {}))
        return found

    def _call(self, method: str, url: str, body: JsonObject | None = None) -> JsonObject | None:
        """The JSON object answered, ``None`` on 404; anything else unexpected is unavailability."""
        encoded = None if body is None else json.dumps(body).encode()
        try:
            response = self._pool.request(method, url, body=encoded, headers=self._headers)
        except urllib3.exceptions.HTTPError as error:
            raise DirectoryUnavailableError('user directory {0} unreachable: {1}'.format(url, error)) from None
        if response.status == HTTPStatus.NOT_FOUND:
            return None
        if response.status != HTTPStatus.OK:
            raise DirectoryUnavailableError('user directory {0} answered HTTP {1}'.format(url, response.status))
        try:
            answer = json.loads(response.data)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise DirectoryUnavailableError('user directory {0} did not answer a JSON object'.format(url))
        return answer


def _profile(raw: Mapping[str, Any]) -> UserProfile:
    try:
        return profile_from_record(load_record(raw))
    except ValidationError as error:
        raise DirectoryUnavailableError('user directory sent a malformed user: {0}'.format(error.messages)) from None


def _profiles(answer: Mapping[str, Any]) -> list[UserProfile]:
    users = answer.get('users', [])
    if not isinstance(users, list):
        raise DirectoryUnavailableError('user directory sent "users" that is not a list')
    return [_profile(raw) for raw in users]
