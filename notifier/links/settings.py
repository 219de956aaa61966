"""The shortener's settings (``NOTIFIER_LINK_*``), read like every other ``NOTIFIER_`` setting."""

import datetime as dt
from typing import Final

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from notifier.errors import SettingsError
from notifier.links.codes import parse_hosts
from notifier.settings import ENV_FILE

DEFAULT_HOSTS: Final = 'cinema.example,.cinema.example'
DEFAULT_TTL_DAYS: Final = 90
MAX_TTL_DAYS: Final = 3650


class LinkSettings(BaseSettings):
    """``NOTIFIER_LINK_HOSTS`` (the allowlist) and ``NOTIFIER_LINK_TTL_DAYS`` (0: links never expire)."""

    model_config = SettingsConfigDict(env_prefix='NOTIFIER_LINK_', env_file=ENV_FILE, extra='ignore')

    hosts: str = DEFAULT_HOSTS
    ttl_days: int = Field(default=DEFAULT_TTL_DAYS, ge=0, le=MAX_TTL_DAYS)

    @property
    def allowed_hosts(self) -> tuple[str, ...]:
        """The allowlist's entries."""
        return parse_hosts(self.hosts)

    @property
    def ttl(self) -> dt.timedelta | None:
        """How long a new link lives; ``None``: for ever."""
        return dt.timedelta(days=self.ttl_days) if self.ttl_days else None

    @field_validator('hosts')
    @classmethod
    def _some_host(cls, hosts: str) -> str:
        if not parse_hosts(hosts):
            raise ValueError('name at least one host')
        return hosts


def _setting_name(location: tuple[int | str, ...]) -> str:
    return '.'.join(str(part) for part in location).upper()


def load_link_settings() -> LinkSettings:
    """The shortener's settings, or one readable :class:`SettingsError` naming the variable."""
    try:
        return LinkSettings()
    except ValidationError as error:
        problems = '; '.join(
            'NOTIFIER_LINK_{0}: {1}'.format(_setting_name(issue['loc']), issue['msg']) for issue in error.errors()
        )
        raise SettingsError('bad settings: {0}'.format(problems)) from None
