"""Loading protocol profiles: shipped ones by name, a user's own by path; bad files refused clearly."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from functools import cache
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from bihuan.core.errors import ConfigurationError
from bihuan.protocol._base import ProfileValueError
from bihuan.protocol._profile import ProtocolProfile

DEFAULT_PROFILE = "cn-8th-2021"
_SUFFIX = ".toml"


class ProfileError(ConfigurationError):
    """A protocol profile refused: names the file, and each problem as (field path, reason)."""

    def __init__(self, source: str, problems: Sequence[tuple[str, str]]) -> None:
        self.source = source
        self.problems = tuple(problems)
        lines = [f"{field}: {reason}" if field else reason for field, reason in self.problems]
        if len(lines) == 1:
            super().__init__(f"protocol profile {source} is refused: {lines[0]}")
        else:
            super().__init__(f"protocol profile {source} is refused:\n" + "\n".join(f"  {line}" for line in lines))


def available_profiles() -> list[str]:
    """Names of the profiles shipped in the package, sorted."""
    folder = resources.files("bihuan.protocol") / "profiles"
    return sorted(entry.name.removesuffix(_SUFFIX) for entry in folder.iterdir() if entry.name.endswith(_SUFFIX))


def load_profile(name_or_path: str | PathLike[str] = DEFAULT_PROFILE) -> ProtocolProfile:
    """Load a shipped profile by name (``cn-8th-2021``) or a user's own TOML file by path."""
    text = str(name_or_path)
    if text in available_profiles():
        return _load_shipped(text)
    path = Path(text)
    if path.suffix == _SUFFIX or path.parent != Path() or path.exists():
        return _load_file(path)
    names = ", ".join(available_profiles())
    raise ProfileError(repr(text), [("", f"no shipped profile has this name; available: {names}")])


@cache
def _load_shipped(name: str) -> ProtocolProfile:
    resource = resources.files("bihuan.protocol") / "profiles" / f"{name}{_SUFFIX}"
    return _parse(resource.read_text(encoding="utf-8"), f"{name} ({resource})")


def _load_file(path: Path) -> ProtocolProfile:
    if not path.is_file():
        raise ProfileError(str(path), [("", "file not found")])
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ProfileError(str(path), [("", f"cannot be read: {error}")]) from error
    return _parse(text, str(path))


def _parse(text: str, source: str) -> ProtocolProfile:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ProfileError(source, [("", f"is not valid TOML: {error}")]) from error
    try:
        return ProtocolProfile.model_validate(data)
    except ValidationError as error:
        raise ProfileError(source, [_readable(detail) for detail in error.errors()]) from error


def _readable(detail: ErrorDetails) -> tuple[str, str]:
    """Turn one pydantic error into (field path, reason) a person can act on."""
    loc = list(detail["loc"])
    kind = detail["type"]
    ctx: dict[str, Any] = dict(detail.get("ctx") or {})
    problem = ctx.get("error")
    if isinstance(problem, ProfileValueError):
        return _join(_path(loc), problem.field), problem.reason
    if loc and loc[-1] == "[key]":
        expected = ctx.get("expected", "a known name")
        return _path(loc[:-1]), f"unknown key {detail['input']!r}; expected one of {expected}"
    if kind == "extra_forbidden":
        return _path(loc), "unknown key; check its spelling (unknown keys are refused)"
    if kind == "missing":
        return _path(loc), "missing: this key is required"
    reason = detail["msg"].removeprefix("Value error, ").replace("Input should be", "must be")
    return _path(loc), f"{reason} (got {detail['input']!r})"


def _path(loc: Sequence[int | str]) -> str:
    """Render a pydantic location as ``quarantine.close_contact.central_test_days[2]``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".")


def _join(base: str, field: str) -> str:
    if not base:
        return field
    return f"{base}{field}" if field.startswith("[") else f"{base}.{field}"
