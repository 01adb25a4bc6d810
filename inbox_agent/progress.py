"""Catch-up progress: how far the daemon is through a backlog it found at start.

On a terminal it is a progress bar (rich); otherwise (a service, a log file) a log line every
`PROGRESS_EVERY` items with done/total and the rate, and one when the backlog is done. A round
smaller than `PROGRESS_EVERY` is no backlog and shows nothing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

PROGRESS_EVERY = 25  # items between two progress lines in a log; also the smallest backlog shown


@contextmanager
def catch_up(what: str, total: int, log: Callable[[str], None]) -> Iterator[Callable[[], None]]:
    """Yields the function to call once per item done, out of `total`; `what` names the stage
    and its items in the log ("ingest: messages")."""
    if total < PROGRESS_EVERY:
        yield lambda: None
        return
    if sys.stderr.isatty():
        with Progress(TextColumn(what), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task(what, total=total)
            yield lambda: bar.advance(task)
        return
    counter = _LogLines(what, total, log)
    yield counter.advance
    counter.finish()


class _LogLines:
    """The progress of a catch-up as log lines: every `PROGRESS_EVERY` items, and at the end."""

    def __init__(self, what: str, total: int, log: Callable[[str], None]) -> None:
        self.what, self.total, self.log = what, total, log
        self.done = 0
        self.started = time.monotonic()

    def _rate(self) -> float:
        return self.done / max(time.monotonic() - self.started, 1e-9)

    def advance(self) -> None:
        self.done += 1
        if self.done % PROGRESS_EVERY == 0 and self.done < self.total:
            self.log(f"{self.what}: catching up, {self.done}/{self.total} ({self._rate():.1f}/s)")

    def finish(self) -> None:
        self.log(f"{self.what}: caught up, {self.done}/{self.total} in {time.monotonic() - self.started:.0f} s "
                 f"({self._rate():.1f}/s)")
