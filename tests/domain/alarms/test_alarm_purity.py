"""The alarm domain stays pure: no Qt, SQL, I/O, threads or clock reads."""

from __future__ import annotations

import ast
from pathlib import Path

import kapdesk.domain.alarms as alarms_package

FORBIDDEN = {
    "PySide6",
    "sqlalchemy",
    "serial",
    "bleak",
    "bumble",
    "time",
    "threading",
    "socket",
    "os",
    "pathlib",
    "io",
    "asyncio",
    "logging",
}


def test_alarm_domain_imports_nothing_impure():
    root = Path(alarms_package.__file__).parent
    files = sorted(root.glob("*.py"))
    assert len(files) >= 4
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("open", "print"):
                raise AssertionError(f"{path.name} does I/O: {ast.unparse(node)}")
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"
