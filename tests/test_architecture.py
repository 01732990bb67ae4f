"""The shape the code keeps: imports run one way, no file imports itself round in a circle, files stay short."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("kb", "suggest", "admin", "web")
MAX_LINES = 400


def _sources() -> list[Path]:
    files = [ROOT / "app.py", ROOT / "wsgi.py"]
    for package in PACKAGES:
        files += sorted((ROOT / package).rglob("*.py"))
    return files


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Return the project modules a file imports (at any depth of the file)."""
    known = {_module(p) for p in _sources()}
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from package import module` depends on that module; `from module import name` on the module.
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & known
            found.update(submodules or {node.module})
    return {name for name in found if name in known}


GRAPH = {_module(p): _imports(p) for p in _sources()}


def _top(module: str) -> str:
    return module.split(".")[0]


def test_kb_depends_on_nothing_above_it() -> None:
    offenders = {m: sorted(i for i in deps if _top(i) in ("suggest", "admin", "web", "app"))
                 for m, deps in GRAPH.items() if _top(m) == "kb"}
    assert {m: d for m, d in offenders.items() if d} == {}


def test_web_depends_only_on_kb() -> None:
    offenders = {m: sorted(i for i in deps if _top(i) in ("suggest", "admin", "app"))
                 for m, deps in GRAPH.items() if _top(m) == "web"}
    assert {m: d for m, d in offenders.items() if d} == {}


def test_only_the_app_factory_imports_the_console() -> None:
    importers = sorted(m for m, deps in GRAPH.items() if _top(m) != "admin" and any(_top(i) == "admin" for i in deps))
    assert importers == ["app"]


def test_matching_is_pure() -> None:
    for module, deps in GRAPH.items():
        if module.startswith("suggest.matching"):
            assert not [d for d in deps if not d.startswith("suggest.matching")], module
            path = ROOT / module.replace(".", "/")
            source = (path / "__init__.py" if path.is_dir() else path.with_suffix(".py")).read_text(encoding="utf-8")
            assert "from flask" not in source and "import flask" not in source, module


def test_no_file_imports_itself_round_a_circle() -> None:
    def reach(start: str) -> set[str]:
        seen, todo = set(), list(GRAPH.get(start, ()))
        while todo:
            module = todo.pop()
            if module not in seen:
                seen.add(module)
                todo.extend(GRAPH.get(module, ()))
        return seen

    # A package's __init__ re-exporting its own modules is not a circle between files.
    circles = sorted(m for m in GRAPH if m in reach(m) and not any(d.startswith(m + ".") for d in GRAPH[m]))
    assert circles == []


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_source_files_stay_short(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES


def test_invariants_have_one_keeper() -> None:
    """Audit events are written only by kb.audit, and the KB generation is moved only by kb.storage."""
    for path in _sources():
        source = path.read_text(encoding="utf-8")
        name = str(path.relative_to(ROOT))
        if name != "kb/audit.py":
            assert not re.search(r"(?<!class )AuditEvent\(", source), name
        if name != "kb/storage.py":
            assert "generation + 1" not in source and "bump_generation" not in source, name
