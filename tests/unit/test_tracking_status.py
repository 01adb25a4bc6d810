"""The tracking view's JSON: the same as `dataclasses.asdict` gives (tuples as lists), field for
field and in the same order, and a copy that a caller may change."""

from __future__ import annotations

import json
from dataclasses import asdict

from inbox_agent.tracking.status import LastMile, Leg, TrackingEvent, TrackingStatus


def _status() -> TrackingStatus:
    return TrackingStatus(
        provider="17track", number="RR123456785CN", status="delivered", delivered_at="2026-05-02T10:00:00+00:00",
        origin_country="CN", destination_country="FR",
        events=(TrackingEvent("2026-05-02T10:00:00+00:00", "Paris", "Distribué", "01", "La Poste"),
                TrackingEvent("2026-04-20T08:00:00+00:00", "Shenzhen", "Accepted")),
        last_mile=LastMile("la-poste", "6A12345678901"), tracking_url="https://example.test/t",
        fetched_at="2026-05-02T11:00:00+00:00", error=None, retry=False, last_mile_status="delivered",
        legs=(Leg("17track", "RR123456785CN", "delivered"), Leg("17track", "6A12345678901", "delivered",
                                                                  carrier="la-poste", relayed=True)),
        raw={"data": {"accepted": [{"number": "RR123456785CN", "track": [{"a": 1, "z": [1, 2.5, None, True]}]}]},
             "code": 0})


def test_to_json_is_what_asdict_gives_with_lists() -> None:
    status = _status()
    expected = asdict(status)
    expected["events"] = [asdict(e) for e in status.events]
    expected["legs"] = [asdict(leg) for leg in status.legs]
    got = status.to_json()
    assert json.dumps(got) == json.dumps(expected)  # same values, same key order
    assert TrackingStatus.from_json(got) == status


def test_to_json_of_a_status_without_last_mile_or_raw() -> None:
    status = TrackingStatus(provider="usps", number="9400100000000000000000", status="not_found", delivered_at=None,
                            origin_country=None, destination_country=None, events=(), last_mile=None,
                            tracking_url=None, fetched_at="2026-05-02T11:00:00+00:00")
    expected = asdict(status)
    expected["events"], expected["legs"] = [], []
    assert json.dumps(status.to_json()) == json.dumps(expected)


def test_changing_the_json_leaves_the_status_alone() -> None:
    status = _status()
    view = status.to_json()
    view["raw"]["data"]["accepted"][0]["track"][0]["a"] = 2
    view["events"][0]["time"] = "changed"
    assert status.raw["data"]["accepted"][0]["track"][0]["a"] == 1
    assert status.events[0].time == "2026-05-02T10:00:00+00:00"
