"""Fitted reading models kept on disk and in memory, keyed by what they were trained from.

A model is stored as plain data: one numpy `.npz` file of arrays (idf weights, coefficients,
intercepts) plus a JSON part (the grams of each vocabulary, the classes), read back with
`allow_pickle=False`, so loading runs no code and needs neither scikit-learn nor SciPy.

A model missing from the cache is trained in a child process (`python -m
inbox_agent.extract.fitting`), which alone imports scikit-learn: the daemon and `inbox-agent
parse` never hold it in memory. The child writes the file to a temporary name and renames it, so
a reader never sees half a file; a damaged or unreadable file is trained again, never fatal.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from importlib.metadata import version
from pathlib import Path
from typing import Any, Protocol, Self, TypeVar

import numpy as np

from inbox_agent.domain import Intent, Role
from inbox_agent.extract.context import ReplyContext
from inbox_agent.extract.training import TrainingExample
from inbox_agent.rules import rules_dir

SUFFIX = ".npz"
TRAINER = "inbox_agent.extract.fitting"
_META = "meta"  # the array holding the JSON part (UTF-8 bytes)


class PlainModel(Protocol):
    """A fitted model made of plain data: a JSON-ready part and named numpy arrays."""

    def plain(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]: ...

    @classmethod
    def from_plain(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> Self: ...


M = TypeVar("M", bound=PlainModel)

_loaded: dict[str, object] = {}
_trainers: set[subprocess.Popen[bytes]] = set()  # the children training now
_trainers_lock = threading.Lock()
_stopping = threading.Event()


class TrainingStopped(Exception):
    """Training was given up because the process is stopping; nothing was saved."""


def model_key(training: str, sources: Iterable[Path]) -> str:
    """A cache key: the training data's digest, the files whose content shapes the model (its
    code, the lexicons when they are features) and the scikit-learn version that fits it."""
    h = hashlib.sha256(f"{version('scikit-learn')}|{training}".encode())
    for path in sources:
        h.update(path.read_bytes())
    return h.hexdigest()[:32]


def cached_model(kind: str, key: str, cache_dir: Path, model_type: type[M],
                 examples: Callable[[], Sequence[TrainingExample]]) -> M:
    """The `kind` model for `key`: from this process, else from `cache_dir`, else trained on
    `examples()` (read only then) in a child process that saves it there. One model of each
    kind stays in memory."""
    name = f"{kind}-{key}"
    held = _loaded.get(name)
    if isinstance(held, model_type):
        return held
    path = cache_dir / f"{name}{SUFFIX}"
    model = _load(path, model_type)
    if model is None:
        model = _train(kind, examples(), path, model_type)
    for old in [n for n in _loaded if n.startswith(f"{kind}-")]:
        del _loaded[old]
    _loaded[name] = model
    return model


def _train(kind: str, examples: Sequence[TrainingExample], path: Path, model_type: type[M]) -> M:
    """Train into `path`, or into a temporary folder when the cache cannot be written (then the
    next start trains again)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        writable = os.access(path.parent, os.W_OK)
    except OSError:
        writable = False
    if writable:
        train_in_child(kind, examples, path)
        return load(path, model_type)
    with tempfile.TemporaryDirectory(prefix="inbox-agent-") as folder:
        train_in_child(kind, examples, Path(folder) / path.name)
        return load(Path(folder) / path.name, model_type)


def train_in_child(kind: str, examples: Sequence[TrainingExample], path: Path) -> None:
    """Train the `kind` model on `examples` in a fresh Python process that writes it to `path`
    (the examples go through its standard input; it reads the same rules directory)."""
    lines = "".join(json.dumps(asdict(e), ensure_ascii=False) + "\n" for e in examples)
    env = {**os.environ, "INBOX_AGENT_RULES": str(rules_dir())}
    with _trainers_lock:
        if _stopping.is_set():
            raise TrainingStopped(f"the {kind} reader was not trained: stopping")
        # its own session: a terminal's Ctrl-C reaches this process, which ends the child itself
        child = subprocess.Popen([sys.executable, "-m", TRAINER, kind, str(path)], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)
        _trainers.add(child)
    try:
        _, errors = child.communicate(lines.encode())
    except BaseException:  # interrupted here (Ctrl-C in `inbox-agent parse`): the child goes too
        child.kill()
        child.wait()
        raise
    finally:
        with _trainers_lock:
            _trainers.discard(child)
    if child.returncode != 0:
        if _stopping.is_set():
            for unfinished in path.parent.glob(f"{_temporary_prefix(path, child.pid)}*"):
                unfinished.unlink(missing_ok=True)  # the child was ended while it wrote the file
            raise TrainingStopped(f"training the {kind} reader was stopped")
        tail = errors.decode(errors="replace").strip().splitlines()[-3:]
        raise RuntimeError(f"training the {kind} reader failed: {' / '.join(tail)}")


def stop_training() -> None:
    """End the trainings running now and refuse new ones, for a process that is stopping: their
    callers get `TrainingStopped` instead of waiting for the fit to finish."""
    with _trainers_lock:
        _stopping.set()
        for child in _trainers:
            child.terminate()


def read_examples(lines: Iterable[str]) -> list[TrainingExample]:
    """The examples `train_in_child` wrote, one JSON object a line."""
    examples = []
    for line in lines:
        if line.strip():
            data = json.loads(line)
            state = ReplyContext(data["state"]) if data.get("state") else None
            examples.append(TrainingExample(**{**data, "intent": Intent(data["intent"]), "role": Role(data["role"]),
                                               "state": state}))
    return examples


def save(model: PlainModel, path: Path) -> None:
    """Write `model` to `path` atomically (a temporary file in the same folder, then renamed)."""
    meta, arrays = model.plain()
    if _META in arrays:
        raise ValueError(f"an array may not be named {_META!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_temporary_prefix(path, os.getpid()), suffix=".tmp")
    try:
        contents = {**arrays, _META: np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)}
        if any(a.dtype == object for a in contents.values()):
            raise ValueError("a model is saved as plain arrays, never as pickled objects")
        with os.fdopen(fd, "wb") as f:
            savez: Callable[..., None] = np.savez  # (its typed keywords hide the arrays' names)
            savez(f, **contents)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _temporary_prefix(path: Path, pid: int) -> str:
    """The start of the name of the temporary file process `pid` writes `path` to."""
    return f".{path.stem}-{pid}-"


def load(path: Path, model_type: type[M]) -> M:
    """The model saved at `path` (plain arrays and JSON only: no pickle is ever read)."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    meta = json.loads(arrays.pop(_META).tobytes())
    return model_type.from_plain(meta, arrays)


def _load(path: Path, model_type: type[M]) -> M | None:
    if not path.is_file():
        return None
    try:
        return load(path, model_type)
    except Exception:  # noqa: BLE001 - a damaged cache file is retrained, never fatal
        return None
