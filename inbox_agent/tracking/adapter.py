"""The CarrierAdapter protocol and what every adapter shares: settings, secrets, tolerant readers.

An adapter turns a provider's documented JSON into TrackingStatus values and nothing else: no
retries (tracking/http.py), no caching and no merging (tracking/tracker.py). Parsers are
tolerant: unknown fields are ignored, missing ones and nulls become None, and a payload of the
wrong shape is a ProviderUnavailable naming the provider, never an exception from deep inside.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, ClassVar, Protocol

from inbox_agent.config import TrackingProvider
from inbox_agent.extract.formats import load_format_book
from inbox_agent.tracking.carriers import carrier_code
from inbox_agent.tracking.http import Http, ProviderUnavailable
from inbox_agent.tracking.status import LastMile, TrackingEvent, TrackingStatus


class CarrierAdapter(Protocol):
    name: str
    batch_size: int
    rate_per_second: float | None

    def accepts(self, number: str, carrier: str) -> bool:
        """Whether this provider can be asked about `number` (as identified by the parser)."""
        ...

    async def track(self, http: Http, numbers: Sequence[str], now: datetime) -> dict[str, TrackingStatus]:
        """One status per number asked (at most `batch_size`); ProviderUnavailable when it cannot say."""
        ...


class MissingCredentials(Exception):
    """A provider is configured without the environment variables its credentials live in."""


class Adapter:
    """Shared base: resolves `*_env` settings to secrets once, at construction."""

    name: ClassVar[str] = ""
    default_base: ClassVar[str] = ""
    needs: ClassVar[tuple[str, ...]] = ()
    post: ClassVar[str | None] = None
    universal: ClassVar[bool] = False
    batch_size: int = 1
    rate_per_second: float | None = None
    burst: int | None = None
    round_calls: int = 1  # calls one batch of new numbers takes (the track stage waits for that many)

    def __init__(self, settings: TrackingProvider, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        self.settings = settings
        self.base_url = (settings.base_url or self.default_base).rstrip("/")
        self.secrets: dict[str, str] = {}
        missing = []
        for key in self.needs:
            variable = getattr(settings, key)
            value = env.get(variable) if variable else None
            if value:
                self.secrets[key.removesuffix("_env")] = value
            else:
                missing.append(f"{key} ({variable or 'not set'})")
        if missing:
            raise MissingCredentials(f"tracking.{self.name}: no credentials in " + ", ".join(missing))
        if settings.rate_per_second is not None:
            self.rate_per_second = settings.rate_per_second
        if settings.burst is not None:
            self.burst = settings.burst

    def accepts(self, number: str, carrier: str) -> bool:
        """A destination post takes numbers identified as its own; an aggregator takes any."""
        return carrier == self.post if self.post else True

    async def track(self, http: Http, numbers: Sequence[str], now: datetime) -> dict[str, TrackingStatus]:
        raise NotImplementedError(f"{type(self).__name__} does not implement track()")

    def relayed_last_mile(self, origin: TrackingStatus, target: LastMile) -> TrackingStatus | None:
        """The destination carrier's leg inside this universal tracker's own answer, if it holds one.

        A universal tracker follows a parcel across carriers and tags every event with the carrier
        that reported it (`source`): the events of `target.carrier` are that carrier's tracking of
        the last-mile number, so the leg counts as tracked at the destination post, no call needed.
        """
        if not self.universal:
            return None
        events = tuple(e for e in origin.events if carrier_code(e.source) == target.carrier)
        if not events:
            return None
        status = self.event_status(events[0])
        return TrackingStatus(
            provider=self.name, number=target.number, status=status,
            delivered_at=events[0].time or None if status == "delivered" else None, origin_country=None,
            destination_country=origin.destination_country, events=events, last_mile=None,
            tracking_url=carrier_link(target), fetched_at=origin.fetched_at,
        )

    def event_status(self, event: TrackingEvent) -> str:
        """The status one of this provider's events stands for (its code, else its wording)."""
        return status_from_text(event.description)

    def shape_error(self, what: str) -> ProviderUnavailable:
        return ProviderUnavailable(self.name, f"answered JSON of an unexpected shape ({what})")


def carrier_link(last_mile: LastMile) -> str | None:
    """The carrier's own tracking page for a last-mile number, when its format names one."""
    identified = load_format_book().identify(last_mile.number)
    if identified is None or identified.carrier != last_mile.carrier or not identified.format.tracking_url:
        return None
    return identified.format.tracking_url.replace("%s", identified.number)


def field(data: Any, *path: str | int) -> Any:
    """data[path[0]][path[1]]..., or None as soon as a step is missing or of the wrong type."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(data, list) or not -len(data) <= step < len(data):
                return None
        elif not isinstance(data, dict):
            return None
        data = data[step] if isinstance(step, int) else data.get(step)
    return data


def text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def parse_time(value: Any, zone: Any = None) -> str | None:
    """ISO 8601 with offset for the many ways providers write a time; None when unreadable.

    Accepts ISO strings (with or without zone), "yyyy-MM-dd HH:mm:ss" with a zone such as "GMT+8"
    or "GMT+02:00", and epoch milliseconds. A time without any zone is kept without one.
    """
    if value in (None, ""):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, tz=UTC).isoformat(timespec="seconds")
    raw = str(value).strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if parsed.tzinfo is None and zone:
        tz = _zone(str(zone))
        if tz is not None:
            parsed = parsed.replace(tzinfo=tz)
    return parsed.isoformat(timespec="seconds")


def _zone(value: str) -> timezone | None:
    spec = value.upper().removeprefix("GMT").removeprefix("UTC").strip()
    if not spec:
        return UTC
    sign = -1 if spec.startswith("-") else 1
    hours, _, minutes = spec.lstrip("+-").partition(":")
    try:
        return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes or 0)))
    except ValueError:
        return None


def sort_key(time: str | None) -> float:
    """Events sort newest first by their instant; unreadable or zone-less times sort by wall clock."""
    if not time:
        return float("-inf")
    try:
        parsed = datetime.fromisoformat(time)
    except ValueError:
        return float("-inf")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


_TEXT_STATUSES = (
    ("returned", ("return to sender", "returned to sender", "retourné", "returned")),
    ("out_for_delivery", ("out for delivery", "with courier for delivery", "for delivery today",
                          "en cours de distribution")),
    ("available_for_pickup", ("awaiting collection", "available for pickup", "ready for pickup", "awaiting pickup")),
    ("failed_attempt", ("attempted delivery", "delivery attempted", "unable to deliver", "could not be delivered",
                        "card left", "notice left")),
    ("delivered", ("delivered", "distribué", "zugestellt", "entregado", "consegnato")),
    ("exception", ("exception", "damaged", "lost", "held by customs", "retenu")),
    ("info_received", ("information received", "shipping information approved", "info received",
                       "electronic information", "pre-shipment")),
)


def status_from_text(description: str, default: str = "in_transit") -> str:
    """A status from an event's wording, for providers whose status codes are not documented."""
    lowered = description.lower()
    for status, phrases in _TEXT_STATUSES:
        if any(p in lowered for p in phrases):
            return status
    return default
