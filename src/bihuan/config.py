"""Settings (配置): one pydantic-settings object, read from BIHUAN_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET = "development-only-secret-change-me"


class Settings(BaseSettings):
    """Everything a deployment configures; validated at start-up."""

    model_config = SettingsConfigDict(env_prefix="BIHUAN_", env_file=".env", extra="ignore")

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Field(default=Path("bihuan-data"), description="Where the SQLite file, imports and Parquet live.")
    database_url: str = Field(default="", description="SQLAlchemy URL; empty means a SQLite file in data_dir.")
    profile: str = Field(default="cn-8th-2021", description="Protocol profile: a shipped name or a TOML path.")
    lang: Literal["zh-CN", "en"] = "zh-CN"
    timezone: str = Field(default="Asia/Shanghai", description="IANA zone that pages show times in.")
    secret_key: str = DEVELOPMENT_SECRET
    session_hours: int = Field(default=12, gt=0, description="How long a login session lasts.")
    spark_master: str = Field(
        default="local[2]", description="Spark master for the contact engine's Spark backend (local[N] or a cluster)."
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone such as Asia/Shanghai") from None
        return value

    @model_validator(mode="after")
    def _refuse_default_secret_outside_development(self) -> Settings:
        if self.environment != "development" and self.secret_key == DEVELOPMENT_SECRET:
            raise ValueError(
                "secret_key: BIHUAN_SECRET_KEY is left at its development default; "
                "set a long random value outside development"
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        """The configured URL, or a SQLite file inside data_dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'bihuan.sqlite3').resolve()}"


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
