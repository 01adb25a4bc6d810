"""One universal tracker is enough: 17TRACK, AfterShip or TrackingMore alone track the last mile.

The services are faked at the HTTP edge with their documented payloads (tests/support/carriers.py),
error envelopes and fields we never read included.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from inbox_agent.config import TrackingConfig, TrackingProvider
from inbox_agent.tracking.cache import MemoryCache
from inbox_agent.tracking.http import RateLimiter, reset_seconds
from inbox_agent.tracking.status import Leg, TrackingStatus
from inbox_agent.tracking.tracker import Tracker, build_tracker
from tests.support.carriers import (
    AFTERSHIP_KEY,
    SEVENTEEN_KEY,
    TRACKINGMORE_KEY,
    USPS_ID,
    USPS_SECRET,
    FakeCarriers,
    Parcel,
    aftership_error,
)

NOW = datetime(2026, 7, 12, 12, 0, tzinfo=UTC)
ENV = {"SEVENTEEN": SEVENTEEN_KEY, "AFTERSHIP": AFTERSHIP_KEY, "TRACKINGMORE": TRACKINGMORE_KEY,
       "USPS_ID": USPS_ID, "USPS_SECRET": USPS_SECRET}
FAST = {"backoff_seconds": 0, "max_wait_seconds": 0, "attempts": 3}
ORIGIN = "LV123456785CN"
IMPB = "9400111206206406260787"
USPS_LINK = "https://tools.usps.com/go/TrackConfirmAction?tLabels="


def tracker(fakes: FakeCarriers, *names: str, env: dict[str, str] | None = None, clock: Any = None,
            transport: httpx.AsyncBaseTransport | None = None, base: str = "http://carriers.test") -> Tracker:
    configured: dict[str, TrackingProvider] = {
        "seventeen_track": TrackingProvider(api_key_env="SEVENTEEN", base_url=f"{base}/track/v2.2", **FAST),
        "aftership": TrackingProvider(api_key_env="AFTERSHIP", base_url=f"{base}/aftership/tracking/2025-07", **FAST),
        "trackingmore": TrackingProvider(api_key_env="TRACKINGMORE", base_url=f"{base}/v4", **FAST),
        "usps": TrackingProvider(client_id_env="USPS_ID", client_secret_env="USPS_SECRET", base_url=base, **FAST),
    }
    config = TrackingConfig(**{n: configured[n] for n in names})
    return build_tracker(config, MemoryCache(timedelta(minutes=60)), env=ENV if env is None else env,
                         clock=clock or (lambda: NOW), transport=transport or fakes.transport())


def one(t: Tracker, number: str, carrier: str = "china_post") -> TrackingStatus:
    return t.track([(number, carrier)])[number]


def paths(fakes: FakeCarriers) -> list[str]:
    return [f"{r.method} {r.url.path}" for r in fakes.requests]


def test_17track_alone_relays_the_usps_events_of_the_last_mile_number_with_no_second_call() -> None:
    fakes = FakeCarriers().add(Parcel(ORIGIN, last_mile=IMPB))
    status = one(tracker(fakes, "seventeen_track"), ORIGIN)
    assert status.last_mile is not None and (status.last_mile.carrier, status.last_mile.number) == ("usps", IMPB)
    assert status.status == "delivered" and status.last_mile_status == "delivered"
    assert status.delivered_at == "2026-07-10T14:15:00-07:00"
    assert paths(fakes) == ["POST /track/v2.2/register", "POST /track/v2.2/gettrackinfo"]
    assert status.legs == (Leg("seventeen_track", ORIGIN, "delivered", url=f"https://t.17track.net/en#nums={ORIGIN}"),
                           Leg("seventeen_track", IMPB, "delivered", url=f"{USPS_LINK}{IMPB}", carrier="usps",
                               relayed=True))
    assert status.tracking_url == f"{USPS_LINK}{IMPB}"
    assert status.legs[1].describe() == (f"seventeen_track answered for usps number {IMPB}: delivered (usps's own "
                                         "events, carried in seventeen_track's answer for the origin number)")


def test_17track_registers_a_number_once_then_only_gets_its_info() -> None:
    fakes = FakeCarriers().add(Parcel(ORIGIN, last_mile=IMPB))
    now = [NOW]
    t = tracker(fakes, "seventeen_track", clock=lambda: now[0])
    one(t, ORIGIN)
    now[0] = NOW + timedelta(hours=2)
    assert one(t, ORIGIN).last_mile_status == "delivered"
    assert paths(fakes) == ["POST /track/v2.2/register", "POST /track/v2.2/gettrackinfo",
                            "POST /track/v2.2/gettrackinfo"]
    fakes.fail_next(1, lambda r: httpx.Response(200, json={"code": 0, "data": {"accepted": [], "rejected": [
        {"number": ORIGIN, "error": {"code": -18019902, "message": "The tracking number '{0}' does not register, "
                                                                   "please register first."}}]}}))
    now[0] = NOW + timedelta(hours=4)
    dropped = one(t, ORIGIN)
    assert dropped.retry and "does not register" in (dropped.error or "")
    assert one(t, ORIGIN).last_mile_status == "delivered"
    assert paths(fakes)[3:] == ["POST /track/v2.2/gettrackinfo", "POST /track/v2.2/register",
                                "POST /track/v2.2/gettrackinfo"]


def test_17track_is_asked_about_the_last_mile_number_when_its_answer_holds_no_events_of_that_carrier() -> None:
    fakes = FakeCarriers().add(Parcel(ORIGIN, last_mile=IMPB, relays_last_mile=False))
    status = one(tracker(fakes, "seventeen_track"), ORIGIN)
    assert status.last_mile is not None and status.last_mile.number == IMPB
    assert status.last_mile_status == "delivered"
    assert [r.url.path.rsplit("/", 1)[1] for r in fakes.requests] == ["register", "gettrackinfo"] * 2
    assert [r.content.count(IMPB.encode()) for r in fakes.requests] == [0, 0, 1, 1]
    assert status.legs[1] == Leg("seventeen_track", IMPB, "delivered", url=f"{USPS_LINK}{IMPB}", carrier="usps")


def test_a_last_mile_number_without_events_of_its_carrier_is_not_tracked_at_the_post() -> None:
    fakes = FakeCarriers().add(Parcel(ORIGIN, last_mile=IMPB, delivered=False))
    status = one(tracker(fakes, "seventeen_track"), ORIGIN)
    assert status.status == "in_transit" and status.last_mile_status == "not_found"
    assert status.legs[1].error == f"seventeen_track knows {IMPB} but has no event of usps for it yet"
    assert len(fakes.requests) == 4


def test_a_configured_destination_post_still_wins_for_its_numbers() -> None:
    fakes = FakeCarriers().add(Parcel(ORIGIN, last_mile=IMPB))
    status = one(tracker(fakes, "seventeen_track", "usps"), ORIGIN)
    assert [leg.provider for leg in status.legs] == ["seventeen_track", "usps"] and not status.legs[1].relayed
    assert status.tracking_url == f"{USPS_LINK}{IMPB}"


def test_17track_without_a_last_mile_number_leaves_the_last_mile_unknown() -> None:
    fakes = FakeCarriers().add(Parcel(ORIGIN, last_mile=IMPB, hidden_last_mile=True))
    status = one(tracker(fakes, "seventeen_track"), ORIGIN)
    assert status.status == "delivered" and status.last_mile is None and status.last_mile_status is None
    assert len(status.legs) == 1 and len(fakes.requests) == 2


def test_17track_tracks_a_destination_post_number_given_directly() -> None:
    fakes = FakeCarriers().add(Parcel(ORIGIN, last_mile=IMPB))
    status = one(tracker(fakes, "seventeen_track"), IMPB, "usps")
    assert status.last_mile is not None and status.last_mile.number == IMPB
    assert status.last_mile_status == "delivered" and len(fakes.requests) == 2


def test_aftership_creates_then_gets_and_reads_last_mile() -> None:
    fakes = FakeCarriers().add(Parcel(ORIGIN, last_mile=IMPB))
    now = [NOW]
    t = tracker(fakes, "aftership", clock=lambda: now[0])
    status = one(t, ORIGIN)
    assert paths(fakes) == ["POST /aftership/tracking/2025-07/trackings",
                            f"GET /aftership/tracking/2025-07/trackings/{fakes.aftership_ids[ORIGIN]}"]
    assert fakes.requests[0].headers["as-api-key"] == AFTERSHIP_KEY
    assert fakes.requests[0].content == f'{{"tracking_number":"{ORIGIN}"}}'.encode()
    assert status.provider == "aftership" and status.status == "delivered"
    assert status.last_mile is not None and (status.last_mile.carrier, status.last_mile.number) == ("usps", IMPB)
    assert status.last_mile_status == "delivered" and status.tracking_url == f"{USPS_LINK}{IMPB}"
    assert (status.origin_country, status.destination_country) == ("CN", "US")
    assert status.legs[1] == Leg("aftership", IMPB, "delivered", url=f"{USPS_LINK}{IMPB}", carrier="usps", relayed=True)
    assert [e.description for e in status.events] == ["Delivered, In/At Mailbox", "Out for Delivery",
                                                      "Posting/Collection"]
    now[0] = NOW + timedelta(minutes=61)
    again = one(t, ORIGIN)
    assert paths(fakes)[2:] == [f"GET /aftership/tracking/2025-07/trackings/{fakes.aftership_ids[ORIGIN]}"]
    assert again.last_mile_status == "delivered"
    after_restart = one(tracker(fakes, "aftership"), ORIGIN)
    assert paths(fakes)[3:] == ["POST /aftership/tracking/2025-07/trackings", "GET /aftership/tracking/2025-07/trackings"]
    assert after_restart.last_mile_status == "delivered" and after_restart.legs == again.legs


def test_aftership_errors() -> None:
    fakes = FakeCarriers().add(Parcel(ORIGIN, last_mile=IMPB))
    unknown = one(tracker(fakes, "aftership"), "LP00123456789012", "cainiao")
    assert unknown.status == "not_found" and not unknown.retry
    assert "AfterShip 4012: cannot detect the courier (Cannot detect courier." in (unknown.error or "")
    refused = one(tracker(fakes, "aftership", env={"AFTERSHIP": "wrong"}), ORIGIN)
    assert refused.retry and "aftership: refused the key (HTTP 401)" in (refused.error or "")
    reset = {"X-RateLimit-Reset": str(int(NOW.timestamp())), "X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0"}
    fakes.fail_next(1, lambda r: httpx.Response(429, headers=reset, json={
        "meta": {"code": 429, "message": "You have exceeded the API call rate limit.", "type": "TooManyRequests"},
        "data": {}}))
    throttled_once = one(tracker(fakes, "aftership"), ORIGIN)
    assert throttled_once.status == "delivered"
    fakes.aftership_ids.clear()
    fakes.fail_next(1, lambda r: None)
    fakes.fail_next(1, lambda r: aftership_error(404, 4004, "Tracking does not exist.", "NotFound"))
    gone = one(tracker(fakes, "aftership"), ORIGIN)
    assert gone.status == "not_found" and "AfterShip 4004: Tracking does not exist." in (gone.error or "")


def test_aftership_pending_is_asked_again_not_cached() -> None:
    fakes = FakeCarriers().add(Parcel(ORIGIN, last_mile=IMPB))
    fakes.fail_next(1, lambda r: None)
    fakes.fail_next(1, lambda r: httpx.Response(200, json={"meta": {"code": 200, "message": "OK", "type": "OK"},
                                                          "data": {"id": "x", "tracking_number": ORIGIN,
                                                                   "tag": "Pending", "checkpoints": []}}))
    t = tracker(fakes, "aftership")
    status = one(t, ORIGIN)
    assert status.status == "not_found" and status.retry and "Pending" in (status.error or "")
    again = one(t, ORIGIN)
    assert again.status == "delivered" and not again.retry
    assert [r.method for r in fakes.requests] == ["POST", "GET", "GET"]


def test_trackingmore_relays_destination_info_for_the_s10_number() -> None:
    fakes = FakeCarriers().add(Parcel(ORIGIN))
    status = one(tracker(fakes, "trackingmore"), ORIGIN)
    assert paths(fakes) == ["POST /v4/trackings/batch", "GET /v4/trackings/get"]
    assert fakes.requests[0].headers["Tracking-Api-Key"] == TRACKINGMORE_KEY
    assert fakes.requests[0].content == f'[{{"tracking_number":"{ORIGIN}","courier_code":"china-post"}}]'.encode()
    assert status.provider == "trackingmore" and status.status == "delivered"
    assert status.last_mile is not None and (status.last_mile.carrier, status.last_mile.number) == ("usps", ORIGIN)
    assert status.last_mile_status == "delivered"
    assert status.legs[1] == Leg("trackingmore", ORIGIN, "delivered", carrier="usps", relayed=True)
    assert {e.source for e in status.events} == {"usps", "china-post"}


def test_trackingmore_detects_couriers_it_is_not_told_and_batches_40() -> None:
    fakes = FakeCarriers()
    numbers = [f"ZZ{i:012d}" for i in range(41)]
    for n in numbers:
        fakes.add(Parcel(n, hidden_last_mile=True))
    quick = TrackingConfig(trackingmore=TrackingProvider(api_key_env="TRACKINGMORE", base_url="http://carriers.test/v4",
                                                         rate_per_second=1000, **FAST))
    t = build_tracker(quick, MemoryCache(timedelta(hours=1)), env=ENV, clock=lambda: NOW, transport=fakes.transport())
    results = t.track([(n, "unknown") for n in numbers])
    assert all(results[n].status == "delivered" and results[n].last_mile_status is None for n in numbers)
    assert len(fakes.calls("/couriers/detect")) == 41 and len(fakes.calls("/trackings/batch")) == 2
    assert len(fakes.calls("/trackings/get")) == 2


def test_trackingmore_errors() -> None:
    fakes = FakeCarriers().add(Parcel(ORIGIN))
    unknown = one(tracker(fakes, "trackingmore"), "RR123456785US", "usps")
    assert unknown.status == "not_found" and not unknown.retry
    assert unknown.error == "TrackingMore 4014: invalid tracking number"
    undetected = one(tracker(fakes, "trackingmore"), "ZZ000000000999", "unknown")
    assert undetected.error == "TrackingMore cannot detect the courier"
    refused = one(tracker(fakes, "trackingmore", env={"TRACKINGMORE": "wrong"}), ORIGIN)
    assert refused.retry and "trackingmore: refused the key (HTTP 401)" in (refused.error or "")
    now = [NOW]
    t = tracker(fakes, "trackingmore", clock=lambda: now[0])
    one(t, ORIGIN)
    assert paths(fakes)[-2:] == ["POST /v4/trackings/batch", "GET /v4/trackings/get"]
    now[0] = NOW + timedelta(hours=2)
    assert one(t, ORIGIN).last_mile_status == "delivered" and paths(fakes)[-3:] == [
        "POST /v4/trackings/batch", "GET /v4/trackings/get", "GET /v4/trackings/get"]
    after_restart = one(tracker(fakes, "trackingmore"), ORIGIN)  # created before: the batch says 4101
    assert after_restart.last_mile_status == "delivered" and paths(fakes)[-2:] == ["POST /v4/trackings/batch",
                                                                                   "GET /v4/trackings/get"]
    throttled = tracker(fakes, "trackingmore")
    fakes.fail_next(1, lambda r: httpx.Response(200, json={"meta": {"code": 429, "message": "Exceeded API limits"},
                                                          "data": []}))
    assert one(throttled, ORIGIN).retry


def test_one_connection_per_provider_for_the_trackers_life() -> None:
    fakes = FakeCarriers().add(Parcel(ORIGIN, last_mile=IMPB))
    server = fakes.serve()
    try:
        now = [NOW]
        t = tracker(fakes, "seventeen_track", clock=lambda: now[0], transport=httpx.AsyncHTTPTransport(),
                    base=server.url)
        one(t, ORIGIN)
        now[0] = NOW + timedelta(hours=2)
        one(t, ORIGIN)
        t.close()
    finally:
        server.close()
    assert len(server.peers) == 3 and len(set(server.peers)) == 1


def test_the_limiter_is_a_bucket_holding_the_providers_burst() -> None:
    assert RateLimiter(3.0).burst == 3 and RateLimiter(0.5).burst == 1 and RateLimiter(3.0, 10).burst == 10
    assert RateLimiter(None).burst == 1


def test_closing_the_tracker_ends_a_lookup_in_flight_instead_of_leaving_its_caller_waiting() -> None:
    asked = threading.Event()

    async def never_answers(request: httpx.Request) -> httpx.Response:
        asked.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    t = tracker(FakeCarriers(), "seventeen_track", transport=httpx.MockTransport(never_answers))
    outcome: list[BaseException] = []

    def lookup() -> None:
        try:
            one(t, ORIGIN)
        except BaseException as e:  # noqa: BLE001 - the test records what the caller got
            outcome.append(e)

    caller = threading.Thread(target=lookup)
    caller.start()
    assert asked.wait(timeout=30)
    t.close()
    caller.join(timeout=30)
    assert not caller.is_alive() and [type(e) for e in outcome] == [concurrent.futures.CancelledError]


def test_a_rate_limit_reset_time_says_how_long_to_wait() -> None:
    assert reset_seconds(str(int(NOW.timestamp()) + 7), NOW) == 7.0
    assert reset_seconds(str(int(NOW.timestamp()) - 7), NOW) == 0.0
    assert reset_seconds("soon", NOW) is None and reset_seconds(None, NOW) is None


def test_trackingmore_pending_is_asked_again_not_cached() -> None:
    fakes = FakeCarriers().add(Parcel(ORIGIN))
    fakes.fail_next(1, lambda r: None)
    fakes.fail_next(1, lambda r: httpx.Response(200, json={"meta": {"code": 200, "message": "ok"}, "data": [
        {"tracking_number": ORIGIN, "courier_code": "china-post", "delivery_status": "pending", "origin_info": None,
         "destination_info": {"trackinfo": None}, "new_field": {"x": 1}}]}))
    t = tracker(fakes, "trackingmore")
    status = one(t, ORIGIN)
    assert status.status == "not_found" and status.retry and "(pending)" in (status.error or "")
    again = one(t, ORIGIN)
    assert again.last_mile_status == "delivered" and not again.retry


@pytest.mark.parametrize("name, payload, status, retry, events", [
    ("aftership", {"meta": {"code": 200}, "data": {"tracking_number": ORIGIN, "tag": "Delivered",
                                                    "checkpoints": [{"checkpoint_time": 12, "message": None}, "odd"],
                                                    "last_mile": "LM123", "destination_country_region": 840}},
     "delivered", False, 1),
    ("aftership", {"meta": {"code": 200}, "data": {"tracking_number": ORIGIN, "tag": "SomethingNew",
                                                    "checkpoints": None}}, "in_transit", False, 0),
    ("aftership", {"meta": "ok", "data": []}, "not_found", True, 0),
    ("aftership", ["not", "an", "envelope"], "not_found", True, 0),
    ("trackingmore", {"meta": {"code": 200}, "data": [{"tracking_number": ORIGIN, "delivery_status": "transit",
                                                        "origin_info": {"trackinfo": [{"checkpoint_date": None}, 7]},
                                                        "destination_info": "none"}]}, "in_transit", False, 1),
    ("trackingmore", {"meta": {"code": 200}, "data": {"tracking_number": ORIGIN, "delivery_status": None}},
     "not_found", False, 0),
    ("trackingmore", {"meta": {"code": 200}, "data": "nothing"}, "not_found", False, 0),
    ("trackingmore", {"data": []}, "not_found", True, 0),
])
def test_universal_trackers_read_payloads_of_the_wrong_types_without_crashing(
        name: str, payload: Any, status: str, retry: bool, events: int) -> None:
    fakes = FakeCarriers().add(Parcel(ORIGIN))
    read = "/trackings/" if name == "aftership" else "/trackings/get"

    def odd(request: httpx.Request) -> httpx.Response | None:
        return httpx.Response(200, json=payload) if read in request.url.path else None

    fakes.fail_next(1, lambda r: None)
    fakes.fail_next(1, odd)
    answer = one(tracker(fakes, name), ORIGIN)
    assert (answer.status, answer.retry, len(answer.events)) == (status, retry, events)
    if retry:
        assert (answer.error or "").startswith(f"{name}: ")
