"""Keeping secrets out of output: URLs with their password masked, a warning for a config file
others may write to (whoever can write it can point the daemon at their own servers)."""

from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy.engine import make_url


def masked_url(url: str) -> str:
    """`url` with any password replaced by ***; a string that is no URL is shown only by its scheme."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - whatever it is, show nothing that could be a secret
        scheme = url.split(":", 1)[0] if ":" in url else ""
        return f"{scheme}:***" if scheme.isalnum() else "***"


def writable_by_others(path: Path) -> str | None:
    """A warning when `path` is writable by its group or by everyone, else None."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    who = [name for bit, name in ((stat.S_IWGRP, "its group"), (stat.S_IWOTH, "everyone")) if mode & bit]
    if not who:
        return None
    return f"warning: {path} is writable by {' and '.join(who)}; make it writable by its owner only (chmod go-w)"
