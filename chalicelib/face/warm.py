"""The face models' sessions created on a background thread, so a cold process's first
check-in finds them ready: onnxruntime releases the GIL while it builds a session, so the
building overlaps the rest of the API's import and its first requests (measured in
bench/RESULTS-checkin.md). A failure here is kept, not raised: the first check-in that needs
a model loads it, and fails, itself."""
from __future__ import annotations

import threading

from chalicelib.face.config import FaceConfig

_lock = threading.Lock()
_thread: threading.Thread | None = None
failure: BaseException | None = None


def in_background(config: FaceConfig) -> threading.Thread:
    """Start (once per process) the thread that creates every session of ``config``'s engine."""
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_warm_up, args=(config,), name="face-warm-up", daemon=True)
            _thread.start()
        return _thread


def _warm_up(config: FaceConfig) -> None:
    global failure
    try:
        from chalicelib.face.engine import get_engine
        get_engine(config).warm_up()
    except BaseException as exc:  # noqa: BLE001 - kept for the first check-in to meet again
        failure = exc
