"""Where the rules and templates shipped with inbox-agent are.

The repository keeps them at its top level (`rules/`, `templates/`); a wheel carries them inside
the package as data (`inbox_agent/bundled_rules`, `inbox_agent/bundled_templates`, mapped in
pyproject.toml). Both are real folders on disk, so the loaders read and glob them as paths; a
store's own copy (`[paths] rules`, `[paths] templates`) still overrides them.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

CHECKOUT_ROOT = Path(__file__).resolve().parent.parent


def bundled_dir(name: Literal["rules", "templates"]) -> Path:
    """The shipped folder `name`: the package data of an installed wheel, else the checkout's own."""
    packaged = resources.files("inbox_agent") / f"bundled_{name}"
    if packaged.is_dir():
        return Path(str(packaged))
    return CHECKOUT_ROOT / name
