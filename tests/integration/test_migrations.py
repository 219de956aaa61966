"""The migrations create exactly the schema the models describe, on PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from notifier.extensions import db
from notifier.models import Base


def test_models_match_the_migrations(app: Flask, database_url: str) -> None:
    with app.app_context(), db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)

    assert differences == []
