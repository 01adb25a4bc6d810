"""Optional: a real screenshot of the post office's tracking page, by headless Chromium.

Off by default (`[kit] page_screenshot = true` turns it on). Any failure (no Chromium, a timeout,
a page that will not load) gives None and the kit goes out with our own picture only: the
screenshot is a nicety, never a reason to hold a reply.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def find_browser(preferred: str | None = None) -> str | None:
    """The configured browser (only it, when set), else the first Chromium on PATH."""
    for name in [preferred] if preferred else BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def page_screenshot(url: str, browser: str | None = None, timeout: float = 30.0) -> bytes | None:
    """PNG bytes of `url` rendered at phone-friendly width, or None."""
    binary = find_browser(browser)
    if binary is None or not url.startswith(("http://", "https://")):
        return None
    with tempfile.TemporaryDirectory(prefix="inbox-agent-shot-") as tmp:
        target = Path(tmp) / "page.png"
        command = [binary, "--headless=new", "--disable-gpu", "--no-sandbox", "--hide-scrollbars",
                   f"--user-data-dir={tmp}", "--window-size=1080,1600", f"--screenshot={target}", url]
        try:
            subprocess.run(command, capture_output=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return target.read_bytes() if target.is_file() and target.stat().st_size else None
