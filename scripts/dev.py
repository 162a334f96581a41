#!/usr/bin/env python3
"""One entry point for a fresh machine with only Python >= 3.11 and pip.

    python3 scripts/dev.py demo    # set up .venv, then run the platform with a demo outbreak
    python3 scripts/dev.py test    # set up .venv, then run the whole test suite
    python3 scripts/dev.py lint    # ruff lint, ruff format check, mypy (CI runs lint, then test)

Only the standard library is used here, so it runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".bihuan-installed"
MYPY_STRICT = ["src/bihuan/protocol", "src/bihuan/assessment", "src/bihuan/core/resident_id.py"]


def _python() -> str:
    return str(BIN / ("python.exe" if os.name == "nt" else "python"))


def _run(*args: str, env: dict[str, str] | None = None) -> int:
    print("+", " ".join(args), flush=True)
    return subprocess.call(list(args), cwd=ROOT, env={**os.environ, **(env or {})})


def ensure_environment() -> None:
    """Create .venv and install the package with its dev extras, again only when pyproject.toml changed."""
    if sys.version_info < (3, 11):  # noqa: UP036  (this script is what an older Python runs first)
        sys.exit("Bihuan needs Python 3.11 or newer")
    fingerprint = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == fingerprint:
        return
    if not BIN.exists():
        print(f"Creating {VENV} ...", flush=True)
        venv.create(VENV, with_pip=True)
    if _run(_python(), "-m", "pip", "install", "--quiet", "--upgrade", "pip") != 0:
        sys.exit("pip could not upgrade itself")
    if _run(_python(), "-m", "pip", "install", "--quiet", "-e", ".[dev]") != 0:
        sys.exit("installing Bihuan failed")
    STAMP.write_text(fingerprint)


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("help", [])
    if command not in ("demo", "test", "lint", "bihuan"):
        print(__doc__)
        return 0 if command == "help" else 2
    ensure_environment()
    if command == "demo":
        return _run(str(BIN / "bihuan"), "demo", *rest)
    if command == "bihuan":
        return _run(str(BIN / "bihuan"), *rest)
    if command == "lint":
        for step in (
            [str(BIN / "ruff"), "check", "src", "tests", "benchmarks", "scripts"],
            [str(BIN / "ruff"), "format", "--check", "src", "tests", "benchmarks", "scripts"],
            [str(BIN / "mypy"), "--strict", *MYPY_STRICT],
            [str(BIN / "mypy"), "src/bihuan"],
        ):
            if _run(*step) != 0:
                return 1
        return 0
    return _run(_python(), "-m", "pytest", "-n", "2", *rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
