"""Run Alembic migrations from code, without an alembic.ini: the scripts ship inside the package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

SCRIPTS = Path(__file__).parent


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["engine"] = engine
    return config


def upgrade_to_head(engine: Engine) -> None:
    command.upgrade(alembic_config(engine), "head")


def new_revision(engine: Engine, message: str) -> None:
    """Write a migration for what the models add (developers: review it before committing)."""
    command.revision(alembic_config(engine), message=message, autogenerate=True)
