"""The architecture's dependency rules, checked on the source: a broken layer fails a test."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "bihuan"
COMPOSITION_ROOTS = {"cli.py"}  # the CLI alone may reach the simulator


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def _modules(package: str) -> list[Path]:
    return sorted((SRC / package).rglob("*.py")) if package else sorted(SRC.rglob("*.py"))


def test_the_platform_never_imports_the_simulator() -> None:
    offenders = [
        str(path.relative_to(SRC))
        for path in _modules("")
        if "sim" not in path.relative_to(SRC).parts[:1]
        and path.name not in COMPOSITION_ROOTS
        and any(name == "bihuan.sim" or name.startswith("bihuan.sim.") for name in _imports(path))
    ]
    assert offenders == []


def test_protocol_rules_import_nothing_of_bihuan_but_core() -> None:
    package = "protocol"
    offenders = {
        str(path.relative_to(SRC)): sorted(
            name
            for name in _imports(path)
            if name.startswith("bihuan.") and not name.startswith((f"bihuan.{package}", "bihuan.core"))
        )
        for path in _modules(package)
    }
    assert {module: names for module, names in offenders.items() if names} == {}


def test_the_loop_only_reads_and_its_engine_is_pure() -> None:
    writers = {"record", "record_many", "make_event"}
    writing = [
        str(path.relative_to(SRC))
        for path in _modules("loop")
        if any(
            isinstance(node, ast.ImportFrom) and node.module == "bihuan.core.events" and alias.name in writers
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            for alias in getattr(node, "names", [])
        )
    ]
    engine = SRC / "loop" / "engine.py"
    impure = sorted(
        name
        for name in _imports(engine)
        if name.startswith("bihuan.") and not name.startswith(("bihuan.core", "bihuan.protocol", "bihuan.loop"))
    )
    assert (writing, impure) == ([], [])
