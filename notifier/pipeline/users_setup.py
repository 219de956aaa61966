"""Building the user directory and the unsubscribe links from the settings (consumers and API)."""

import os
import secrets
import tempfile
from pathlib import Path
from typing import Final

from notifier.errors import SettingsError
from notifier.preferences.unsubscribe import UnsubscribeLinks
from notifier.settings import Settings
from notifier.users import HttpUserDirectory, UserDirectory

#: Where a development instance keeps the secret it made up when NOTIFIER_SECRET_KEY is empty.
DEV_SECRET_FILE: Final = 'unsubscribe.key'
_SECRET_BYTES: Final = 32
_OWNER_ONLY: Final = 0o600


def directory_from_settings(settings: Settings) -> UserDirectory | None:
    """The HTTP directory when ``NOTIFIER_USERS_URL`` is set; ``None`` means the local ``users`` table."""
    if not settings.users_url:
        return None
    return HttpUserDirectory(
        settings.users_url,
        replica_url=settings.users_replica_url or None,
        timeout=settings.users_timeout,
        token=settings.users_token or None,
    )


def public_url(settings: Settings) -> str:
    """Where recipients reach the service: ``NOTIFIER_PUBLIC_URL``, else the API's own address."""
    return settings.public_url or 'http://{0}:{1}'.format(settings.api_host, settings.api_port)


def unsubscribe_secret(settings: Settings) -> bytes:
    """The key that signs unsubscribe links.

    ``NOTIFIER_SECRET_KEY`` in production (required: every process must sign
    and check with the same key). A development instance makes one up once
    and keeps it in its instance folder, which its processes share.
    """
    if settings.secret_key:
        return settings.secret_key.encode()
    if settings.environment == 'production':
        raise SettingsError('NOTIFIER_SECRET_KEY is required in production: it signs unsubscribe links')
    return _development_secret(settings.instance_dir / DEV_SECRET_FILE)


def links_from_settings(settings: Settings) -> UnsubscribeLinks:
    """The unsubscribe links of this deployment."""
    return UnsubscribeLinks(secret=unsubscribe_secret(settings), base_url=public_url(settings))


def _development_secret(path: Path) -> bytes:
    """Read the instance's secret, creating it first if needed (atomically: two processes agree)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        descriptor, temp_name = tempfile.mkstemp(dir=path.parent, suffix='.tmp')
        with os.fdopen(descriptor, 'wb') as secret_file:
            secret_file.write(secrets.token_hex(_SECRET_BYTES).encode())
        os.chmod(temp_name, _OWNER_ONLY)
        try:
            os.link(temp_name, path)  # fails if another process was first: its secret wins
        except FileExistsError:
            pass  # noqa: WPS420
        finally:
            os.unlink(temp_name)
    return path.read_bytes().strip()
