"""Reading a case set in its three parts: every case, the tuning part and the held-out third
(the honest figure: written before the rules changed and never looked at while tuning)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol


class HeldOut(Protocol):
    held_out: bool


class Figure(Protocol):
    def line(self) -> str: ...


def part_lines(results: Sequence[tuple[HeldOut, Any]], figure: Callable[[list[Any]], Figure]) -> list[str]:
    """One printed line per part of `results` ((case, answer) pairs), scored by `figure`."""
    return [f"all       {figure(list(results)).line()}",
            f"tuning    {figure([r for r in results if not r[0].held_out]).line()}",
            f"held out  {figure([r for r in results if r[0].held_out]).line()}"]
