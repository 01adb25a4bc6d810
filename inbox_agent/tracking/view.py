"""The terminal view of `inbox-agent track`: status, both legs, last-mile number, the post's link."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from inbox_agent.tracking.status import TrackingStatus

_COLOURS = {"delivered": "green", "not_found": "red", "exception": "red", "returned": "red", "expired": "red",
            "failed_attempt": "yellow", "out_for_delivery": "cyan", "available_for_pickup": "cyan"}


def render_status(status: TrackingStatus, console: Console) -> None:
    """Print one merged status as a panel: summary lines, legs, then the timeline (newest first)."""
    head = Text()
    head.append(f"{status.number}  ", style="bold")
    head.append(status.status.replace("_", " ").upper(), style=f"bold {_COLOURS.get(status.status, 'blue')}")
    if status.sample:
        head.append("  (built-in sample data)", style="magenta")
    lines = [head]
    route = f"{status.origin_country or '?'} -> {status.destination_country or '?'}"
    lines.append(Text(f"route {route}" + (f"   delivered {status.delivered_at}" if status.delivered_at else "")))
    if status.last_mile:
        tracked = f" (post office says: {status.last_mile_status})" if status.last_mile_status else ""
        lines.append(Text(f"last mile: {status.last_mile.carrier} {status.last_mile.number}{tracked}"))
    if status.tracking_url:
        lines.append(Text(f"track it: {status.tracking_url}", style="underline"))
    if status.error:
        lines.append(Text(status.error, style="red"))
    legs = Table(show_header=True, header_style="bold", box=None)
    for column in ("provider", "number", "last mile", "status", "note"):
        legs.add_column(column)
    for leg in status.legs:
        last_mile = f"{leg.carrier} (in the origin answer)" if leg.relayed else leg.carrier or ""
        legs.add_row(leg.provider, leg.number, last_mile, leg.status, leg.error or "")
    events = Table(show_header=True, header_style="bold", box=None)
    for column in ("time", "where", "what", "source"):
        events.add_column(column, overflow="fold")
    for event in status.events:
        style = "bold green" if event.description.lower().startswith("delivered") or event.code in ("01", "DI1",
                                                                                                    "GTMS_SIGNED") else ""
        events.add_row(event.time, event.location, event.description, event.source, style=style)
    parts: list[Text | Table] = [*lines]
    if status.legs:
        parts.append(legs)
    if status.events:
        parts.append(events)
    console.print(Panel(Group(*parts), title=status.provider, title_align="left"))
