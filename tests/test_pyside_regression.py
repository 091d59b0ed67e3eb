"""PySide6 6.12.0 leaks a reference to True per signal emit; CPython 3.11 then aborts
(pitfalls.md). The pin in pyproject.toml keeps us off it; this test proves the installed
PySide6 survives what a live plot does to it."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
from PySide6.QtCore import QCoreApplication, QObject, Signal

class Emitter(QObject):
    changed = Signal(bool)

app = QCoreApplication([])
e = Emitter()
seen = []
e.changed.connect(lambda v: seen.append(v))
for _ in range(20000):
    e.changed.emit(True)
assert len(seen) == 20000 and all(seen)
del e, app
import gc; gc.collect()
print("ok")
"""


def test_twenty_thousand_true_emits_do_not_crash() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "ok"


def test_installed_pyside6_is_below_6_12() -> None:
    import PySide6

    major, minor = (int(x) for x in PySide6.__version__.split(".")[:2])
    assert (major, minor) < (6, 12)
