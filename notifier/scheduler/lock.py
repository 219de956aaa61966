"""One scheduler per SQLite database.

On PostgreSQL several schedulers share the work safely (row locks with
``SKIP LOCKED`` and unique occurrences). SQLite has no row locks, so a second
scheduler on the same file stops at start with a clear message instead.
"""

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from notifier.errors import StartupError
from notifier.settings import Settings

LOCK_FILE = 'scheduler.lock'


@contextmanager
def single_scheduler_on_sqlite(settings: Settings) -> Iterator[None]:
    """Hold an exclusive lock beside the SQLite file while the scheduler runs."""
    url = settings.resolved_database_url
    if not url.startswith('sqlite'):
        yield
        return
    lock_path = Path(url.split(':///', 1)[1]).with_name(LOCK_FILE)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open('w') as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StartupError(
                'another scheduler is running on the SQLite database {0}; run one scheduler on SQLite, '
                'or use PostgreSQL (NOTIFIER_DATABASE_URL) to run several'.format(url),
            ) from None
        yield
