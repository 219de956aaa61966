"""The application factory: every mode (api, consume, schedule) starts from it."""

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from notifier import idle_ping  # noqa: F401 - registers the pool's idle ping
from notifier.extensions import db, migrate
from notifier.observability.logs import configure_logging
from notifier.paths import migrations_dir
from notifier.settings import SETTINGS_KEY, Settings, load_settings

SQLITE_BUSY_TIMEOUT_MS = 30000


def create_app(settings: Settings | None = None) -> Flask:
    """Build the Flask app; tests pass their own settings, modes read the environment."""
    settings = settings or load_settings()
    app = Flask(__name__, instance_path=str(settings.instance_dir.resolve()))
    app.extensions[SETTINGS_KEY] = settings
    app.config.update(
        SQLALCHEMY_DATABASE_URI=settings.resolved_database_url,
        # No ping per checkout: notifier.idle_ping pings only a connection idle for a while.
        SQLALCHEMY_ENGINE_OPTIONS={'pool_pre_ping': False},
        SECRET_KEY=settings.secret_key or None,
        JSON_SORT_KEYS=False,
        MAX_CONTENT_LENGTH=1024 * 1024,
    )
    if settings.resolved_database_url.startswith('sqlite'):
        settings.instance_dir.mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(migrations_dir()))
    _register_blueprints(app)
    configure_logging(settings)
    return app


def _register_blueprints(app: Flask) -> None:
    from notifier.admin import init_admin  # noqa: WPS433 - the admin imports the app's settings
    from notifier.api.registry import register_http  # noqa: WPS433 - the api imports the app's settings
    from notifier.api.request_ids import install_request_ids  # noqa: WPS433 - same reason

    install_request_ids(app)  # first: every other hook, and every answer, sees the request id
    register_http(app)
    init_admin(app)


@event.listens_for(Engine, 'connect')
def _sqlite_pragmas(dbapi_connection: object, connection_record: object) -> None:
    """WAL and a busy timeout let the api, consume and schedule processes share one SQLite file."""
    module = type(dbapi_connection).__module__
    if not module.startswith('sqlite3'):
        return
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute('PRAGMA journal_mode=WAL')
    cursor.execute('PRAGMA busy_timeout={0}'.format(SQLITE_BUSY_TIMEOUT_MS))
    cursor.execute('PRAGMA foreign_keys=ON')
    cursor.close()
