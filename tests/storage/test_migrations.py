"""The Alembic migrations build exactly the tables the code declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from hotline.storage.db import MIGRATIONS, Database
from hotline.storage.schema import metadata
from hotline.testing import DatabaseFactory


def test_migrations_match_the_declared_tables(databases: DatabaseFactory) -> None:
    db = Database(databases.new("migrations"))
    try:
        db.migrate()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert [] == diff
    finally:
        db.dispose()


def test_migrating_twice_changes_nothing(databases: DatabaseFactory) -> None:
    db = Database(databases.new("twice"))
    try:
        db.migrate()
        db.migrate()
        with db.engine.connect() as conn:
            heads = set(MigrationContext.configure(conn).get_current_heads())
        assert heads == set(ScriptDirectory.from_config(_config()).get_heads())
    finally:
        db.dispose()


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config
