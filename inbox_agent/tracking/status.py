"""The normalised view of a parcel, identical for every provider.

Field names are those of `inbox-agent track --json` (docs/tracking.md). `last_mile` is the
destination post's own number when known: the playbook uses it to skip asking the distributor.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
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


@dataclass(frozen=True)
class LastMile:
    carrier: str
    number: str


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
    raw: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["events"] = [asdict(e) for e in self.events]
        return data

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
            raw=data.get("raw") or {},
        )


def iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")
