"""The domain layer stays free of Qt, SQL and I/O (architecture.md), checked two ways."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[1] / "kapdesk" / "domain"
FORBIDDEN = {
    "PySide6", "pyqtgraph", "sqlalchemy", "alembic", "serial", "bleak", "bumble",
    "sqlite3", "socket", "subprocess", "threading", "asyncio", "os", "io", "pathlib",
    "shutil", "tempfile", "requests", "urllib", "platformdirs", "kapdesk.storage",
    "kapdesk.ui", "kapdesk.acquisition",
}  # fmt: skip


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_domain_sources_import_nothing_forbidden() -> None:
    files = sorted(DOMAIN.rglob("*.py"))
    assert files, "domain package not found"
    bad = []
    for f in files:
        for mod in imported_modules(f):
            if any(mod == x or mod.startswith(x + ".") for x in FORBIDDEN):
                bad.append(f"{f.relative_to(DOMAIN.parent.parent)} imports {mod}")
    assert not bad, "\n".join(bad)


def test_domain_sources_call_no_open() -> None:
    bad = []
    for f in sorted(DOMAIN.rglob("*.py")):
        for node in ast.walk(ast.parse(f.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in {"open", "print", "input"}
            ):
                bad.append(f"{f.name}:{node.lineno} calls {node.func.id}()")
    assert not bad, "\n".join(bad)


def test_importing_the_domain_loads_no_qt_or_sql() -> None:
    code = (
        "import pkgutil, importlib, sys, kapdesk.domain as d\n"
        "for m in pkgutil.walk_packages(d.__path__, 'kapdesk.domain.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in"
        " {'PySide6','sqlalchemy','serial','bleak','bumble','pyqtgraph'}]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""


UI = DOMAIN.parent / "ui"
#: The layers below the runtime: the UI takes its data and services from the runtime
#: (``Runtime.clinic``, ``.journal``, ``.patients``, ``.devices``...), so from these it may
#: name types and constants (for hints and ``isinstance``) but never call a function.
BELOW_THE_RUNTIME = ("kapdesk.storage", "kapdesk.config", "kapdesk.acquisition", "kapdesk.sim")


def test_the_ui_calls_no_loader_or_query_below_the_runtime() -> None:
    import importlib
    import inspect

    bad = []
    for f in sorted(UI.rglob("*.py")):
        tree = ast.parse(f.read_text(), filename=str(f))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                bad += [
                    f"{f.name}: import {a.name}"
                    for a in node.names
                    if a.name.startswith(BELOW_THE_RUNTIME) or a.name.startswith("sqlalchemy")
                ]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module.startswith("sqlalchemy"):
                    bad.append(f"{f.name}: from {node.module} import ...")
                if not node.module.startswith(BELOW_THE_RUNTIME):
                    continue
                module = importlib.import_module(node.module)
                for alias in node.names:
                    obj = getattr(module, alias.name)
                    if inspect.isfunction(obj) or inspect.ismodule(obj):
                        bad.append(f"{f.name}: from {node.module} import {alias.name}")
    assert not bad, "the UI must ask the runtime, not call:\n" + "\n".join(bad)
