"""Alembic environment: runs on the engine handed over by bihuan.migrations.runner."""

from __future__ import annotations

from alembic import context

import bihuan.models  # noqa: F401  (registers every table)
from bihuan.core.db import Base

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        user_module_prefix="bihuan.core.db.",
    )
    context.run_migrations()
