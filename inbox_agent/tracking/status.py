"""The normalised view of a parcel, identical for every provider.

Field names are those of `inbox-agent track --json` (docs/tracking.md). `last_mile` is the
destination post's own number when known: the playbook uses it to skip asking the distributor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

STATUSES = (
    "not_found", "info_received", "in_transit", "out_for_delivery", "available_for_pickup",
    "delivered", "failed_attempt", "exception", "returned", "expired",
)


@dataclass(frozen=True)
class TrackingEvent:
    time: str
    location: str
    description: str
    code: str = ""
    source: str = ""


@dataclass(frozen=True)
class LastMile:
    carrier: str
    number: str


@dataclass(frozen=True)
class Leg:
    """One provider's answer inside a merged view: who said what about which number.

    `carrier` names the destination carrier of a last-mile leg; `relayed` is true when that leg
    was read from the origin answer of a universal tracker (its copy of the carrier's events),
    with no call of its own.
    """

    provider: str
    number: str
    status: str
    error: str | None = None
    url: str | None = None
    carrier: str | None = None
    relayed: bool = False

    def describe(self) -> str:
        """One line for people: which service answered about which number, and what it said."""
        about = f"{self.carrier} number {self.number}" if self.carrier else self.number
        line = f"{self.provider} answered for {about}: {self.status}"
        if self.relayed:
            line += f" ({self.carrier}'s own events, carried in {self.provider}'s answer for the origin number)"
        return line + (f" ({self.error})" if self.error else "")


@dataclass(frozen=True)
class TrackingStatus:
    provider: str
    number: str
    status: str
    delivered_at: str | None
    origin_country: str | None
    destination_country: str | None
    events: tuple[TrackingEvent, ...]
    last_mile: LastMile | None
    tracking_url: str | None
    fetched_at: str
    sample: bool = False
    error: str | None = None
    retry: bool = False
    last_mile_status: str | None = None
    legs: tuple[Leg, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def found(self) -> bool:
        return self.status != "not_found"

    @property
    def post_number(self) -> str:
        """The number the destination's post knows the parcel by: the last mile's, else this one."""
        return (self.last_mile.number if self.last_mile is not None else "") or self.number

    def to_json(self) -> dict[str, Any]:
        """The view as plain JSON values, fields in declaration order (what `dataclasses.asdict`
        gives, with lists for the tuples), built field by field: asdict copies the provider's
        whole raw answer value by value, which made it the tracker's costliest step."""
        last = self.last_mile
        return {
            "provider": self.provider, "number": self.number, "status": self.status,
            "delivered_at": self.delivered_at, "origin_country": self.origin_country,
            "destination_country": self.destination_country, "events": [_event_json(e) for e in self.events],
            "last_mile": {"carrier": last.carrier, "number": last.number} if last is not None else None,
            "tracking_url": self.tracking_url, "fetched_at": self.fetched_at, "sample": self.sample,
            "error": self.error, "retry": self.retry, "last_mile_status": self.last_mile_status,
            "legs": [_leg_json(leg) for leg in self.legs], "raw": _copied(self.raw),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrackingStatus:
        last = data.get("last_mile")
        return cls(
            provider=data["provider"],
            number=data["number"],
            status=data["status"],
            delivered_at=data.get("delivered_at"),
            origin_country=data.get("origin_country"),
            destination_country=data.get("destination_country"),
            events=tuple(TrackingEvent(**e) for e in data.get("events", [])),
            last_mile=LastMile(**last) if last else None,
            tracking_url=data.get("tracking_url"),
            fetched_at=data["fetched_at"],
            sample=bool(data.get("sample")),
            error=data.get("error"),
            retry=bool(data.get("retry")),
            last_mile_status=data.get("last_mile_status"),
            legs=tuple(Leg(**leg) for leg in data.get("legs", [])),
            raw=data.get("raw") or {},
        )


def _event_json(event: TrackingEvent) -> dict[str, Any]:
    return {"time": event.time, "location": event.location, "description": event.description,
            "code": event.code, "source": event.source}


def _leg_json(leg: Leg) -> dict[str, Any]:
    return {"provider": leg.provider, "number": leg.number, "status": leg.status, "error": leg.error,
            "url": leg.url, "carrier": leg.carrier, "relayed": leg.relayed}


def _copied(value: Any) -> Any:
    """A copy of a JSON value (dicts and lists new, the rest shared: JSON's scalars are immutable),
    so a caller changing the view never changes the status it came from."""
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_copied(v) for v in value)
    return value


def iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def not_found(provider: str, number: str, now: datetime, reason: str, raw: Any = None) -> TrackingStatus:
    """A permanent, explained answer: the provider does not know this number (or refuses it)."""
    return TrackingStatus(
        provider=provider, number=number, status="not_found", delivered_at=None, origin_country=None,
        destination_country=None, events=(), last_mile=None, tracking_url=None, fetched_at=iso(now),
        error=reason, raw={"payload": raw} if raw is not None else {},
    )
