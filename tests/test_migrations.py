"""Models and migrations never drift apart: a migrated database matches the tables in code."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, MetaData, String, inspect

import bihuan.models  # noqa: F401  (every table)
from bihuan.core.db import Base, Database


def _differences(database: Database, metadata: MetaData) -> list[Any]:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": False})
        return list(compare_metadata(context, metadata))


def test_a_migrated_database_matches_the_models(database: Database) -> None:
    assert _differences(database, Base.metadata) == []


def test_every_table_of_the_models_is_created_by_the_migrations(database: Database) -> None:
    assert set(Base.metadata.tables) <= set(inspect(database.engine).get_table_names())


def test_a_column_added_without_a_migration_is_noticed(database: Database) -> None:
    """The check above can fail: a model with one more column than the migrations differs."""
    drifted = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(drifted)
    drifted.tables["persons"].append_column(Column("nickname", String(32), nullable=True))
    differences = _differences(database, drifted)
    assert [(d[0], d[2], d[3].name) for d in differences] == [("add_column", "persons", "nickname")]
