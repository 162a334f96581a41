"""What every benchmark does first: run inside the project's .venv (the README's setup), even when started
with a bare ``python3`` on a fresh clone; imported as ``from _environment import use_the_project_environment``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def use_the_project_environment() -> None:
    """Re-launch this script with .venv's Python when bihuan is not importable here, creating .venv first."""
    try:
        import bihuan  # noqa: F401
    except ImportError:
        venv = ROOT / ".venv"
        if Path(sys.prefix).resolve() == venv.resolve():
            sys.path.insert(0, str(ROOT / "src"))
            return
        sys.path.insert(0, str(ROOT / "scripts"))
        import dev  # the Quickstart's own setup: .venv with the package and its dev extras

        dev.ensure_environment()
        python = venv / "bin" / "python"
        os.execv(str(python), [str(python), *sys.argv])
