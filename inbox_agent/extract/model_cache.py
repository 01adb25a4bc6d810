"""Fitted reading models kept on disk and in memory, keyed by what they were trained from.

A model is trained once, at first use, and again only when its key (training data, rules, code
and library versions) changes. The file is written to a temporary name and renamed, so a reader
never sees half a file; a damaged or unreadable file is trained again, never fatal.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import joblib

M = TypeVar("M")

_loaded: dict[str, object] = {}


def cached_model(kind: str, key: str, cache_dir: Path, model_type: type[M], train: Callable[[], M]) -> M:
    """The `kind` model for `key`: from this process, else from `cache_dir`, else `train()`ed now
    and saved there. One model of each kind stays in memory."""
    name = f"{kind}-{key}"
    held = _loaded.get(name)
    if isinstance(held, model_type):
        return held
    path = cache_dir / f"{name}.joblib"
    model: M | None = None
    if path.is_file():
        try:
            loaded = joblib.load(path)
            model = loaded if isinstance(loaded, model_type) else None
        except Exception:  # noqa: BLE001 - a damaged cache file is retrained, never fatal
            model = None
    if model is None:
        model = train()
        _save(model, path, kind)
    for old in [n for n in _loaded if n.startswith(f"{kind}-")]:
        del _loaded[old]
    _loaded[name] = model
    return model


def _save(model: object, path: Path, kind: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{kind}-", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            joblib.dump(model, f)
        os.replace(tmp, path)
    except OSError:
        pass  # an unwritable cache only means training again next start
