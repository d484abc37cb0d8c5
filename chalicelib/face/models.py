"""ONNX sessions, created once per process on first use, with options for a 1-2 vCPU Lambda."""
from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import numpy as np

MODELS_DIR = Path(__file__).resolve().parents[2] / "models"

_lock = threading.Lock()
_sessions: dict[tuple[str, int], "object"] = {}


def model_path(name: str, models_dir: Path | None = None) -> Path:
    return (models_dir or MODELS_DIR) / f"{name}.onnx"


def session(name: str, threads: int = 1, models_dir: Path | None = None):
    """The process-wide onnxruntime session for models/<name>.onnx."""
    key = (str(model_path(name, models_dir)), threads)
    with _lock:
        sess = _sessions.get(key)
        if sess is None:
            import onnxruntime as ort  # imported lazily: importing the app must stay cheap

            opts = ort.SessionOptions()
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
            opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            opts.enable_cpu_mem_arena = True
            opts.log_severity_level = 3
            sess = ort.InferenceSession(key[0], sess_options=opts, providers=["CPUExecutionProvider"])
            _sessions[key] = sess
        return sess


def run(name: str, inputs: np.ndarray, outputs: list[str] | None = None, threads: int = 1,
        models_dir: Path | None = None) -> list[np.ndarray]:
    sess = session(name, threads, models_dir)
    return sess.run(outputs, {sess.get_inputs()[0].name: inputs})


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
