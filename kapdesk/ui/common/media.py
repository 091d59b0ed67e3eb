"""Media players that Qt makes, not Python: no deadlock between FFmpeg threads and the GIL.

An object constructed from Python is a shiboken subclass, and each of its virtual methods
first asks Python (taking the GIL) whether Python overrides it. QtMultimedia's FFmpeg
backend destroys its objects on its own threads; ``~QObject`` then calls
``disconnectNotify`` on the player or audio output it listened to, *while holding one of
Qt's pooled signal-slot mutexes*. If the GUI thread, holding the GIL, needs that mutex at
the same moment (any connect or disconnect, and ``QMediaPlayer.stop`` and ``setSource``
do both), each waits for the other for ever: the app freezes.

Seen here first as a hang of the test suite in ``SessionMusicPlayer._stop_now``
(gdb: FFmpeg's audio-renderer thread in ``~QObject -> Sbk_GetPyOverride ->
PyGILState_Ensure``; the GUI thread in ``QObject::disconnect``), then reproduced alone:
a play / stop / ``setSource`` loop hung within a minute with Python-made objects, and ran
90 s (2,200 cycles) without a hang with the same objects made by a QML component. Made by
``QQmlComponent``, they are plain Qt classes: no virtual call from another thread reaches
Python. Python still calls their methods and connects to their signals as usual.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QUrl
from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer
from PySide6.QtQml import QQmlComponent, QQmlEngine

#: ``MediaPlayer`` and ``AudioOutput`` are QML's names for QMediaPlayer and QAudioOutput.
PLAYER_QML = b"import QtMultimedia\nMediaPlayer { audioOutput: AudioOutput {} }\n"

_component: QQmlComponent | None = None
_engine: QQmlEngine | None = None  # held here too: the component needs it alive


def _player_component() -> QQmlComponent:
    global _component, _engine
    if _component is None or not shiboken6.isValid(_component):  # made per application
        app = QCoreApplication.instance()
        if app is None:
            raise RuntimeError("media players need a QApplication")
        engine = QQmlEngine(app)  # lives as long as the application
        component = QQmlComponent(engine, app)
        component.setData(PLAYER_QML, QUrl())
        if component.isError():
            raise RuntimeError(f"QtMultimedia's QML types are missing: {component.errorString()}")
        _component, _engine = component, engine
    return _component


def media_player(parent: QObject) -> tuple[QMediaPlayer, QAudioOutput]:
    """A QMediaPlayer with its own QAudioOutput, owned by ``parent`` (GUI thread only)."""
    player = _player_component().create()
    if not isinstance(player, QMediaPlayer):
        raise RuntimeError("the player component did not make a QMediaPlayer")
    player.setParent(parent)
    output = player.audioOutput()
    if output is None:
        raise RuntimeError("the player component made no audio output")
    return player, output
