"""Contract tests of the tracking adapters and the tracker, with the carriers faked at the HTTP edge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from inbox_agent.config import TrackingConfig, TrackingProvider
from inbox_agent.tracking.cache import MemoryCache
from inbox_agent.tracking.providers.australia_post import parse_result
from inbox_agent.tracking.providers.dhl import parse_shipment as parse_dhl
from inbox_agent.tracking.providers.royal_mail import parse_mailpiece
from inbox_agent.tracking.providers.yunexpress import parse_track_info
from inbox_agent.tracking.status import TrackingStatus
from inbox_agent.tracking.tracker import Tracker, build_tracker
from tests.support.carriers import OKAPI_KEY, SEVENTEEN_KEY, USPS_ID, USPS_SECRET, FakeCarriers, Parcel

NOW = datetime(2026, 7, 12, 12, 0, tzinfo=UTC)
ENV = {"SEVENTEEN": SEVENTEEN_KEY, "USPS_ID": USPS_ID, "USPS_SECRET": USPS_SECRET, "OKAPI": OKAPI_KEY}
FAST = {"backoff_seconds": 0, "max_wait_seconds": 0, "attempts": 3}
ORIGIN = "LV123456785CN"
IMPB = "9400111206206406260787"


def settings(**kwargs: Any) -> TrackingProvider:
    return TrackingProvider(**{**FAST, **kwargs})


def tracker(fakes: FakeCarriers, *names: str, env: dict[str, str] | None = None, clock: Any = None) -> Tracker:
    configured: dict[str, Any] = {
        "seventeen_track": settings(api_key_env="SEVENTEEN"),
        "cainiao": settings(),
        "usps": settings(client_id_env="USPS_ID", client_secret_env="USPS_SECRET"),
        "laposte": settings(api_key_env="OKAPI"),
    }
    config = TrackingConfig(**{n: configured[n] for n in names})
    return build_tracker(config, MemoryCache(timedelta(minutes=60)), env=ENV if env is None else env,
                         clock=clock or (lambda: NOW), transport=fakes.transport())


def one(t: Tracker, number: str, carrier: str) -> TrackingStatus:
    return t.track([(number, carrier)])[number]


def test_17track_handover_to_usps_gives_one_timeline_with_the_last_mile() -> None:
    fakes = FakeCarriers().add(Parcel(ORIGIN, last_mile=IMPB))
    status = one(tracker(fakes, "seventeen_track", "usps"), ORIGIN, "china_post")
    assert status.provider == "seventeen_track" and status.status == "delivered"
    assert status.last_mile is not None and (status.last_mile.carrier, status.last_mile.number) == ("usps", IMPB)
    assert status.last_mile_status == "delivered"
    assert status.tracking_url == f"https://tools.usps.com/go/TrackConfirmAction?tLabels={IMPB}"
    assert (status.origin_country, status.destination_country) == ("CN", "US")
    assert status.delivered_at == "2026-07-10T21:15:00+00:00"
    assert [e.source for e in status.events].count("USPS") == 2 and status.events[-1].description == "Posting/Collection"
    assert [leg.provider for leg in status.legs] == ["seventeen_track", "usps"]
    assert len(fakes.calls("/register")) == 1 and len(fakes.calls("/oauth2/v3/token")) == 1


def test_cainiao_needs_no_key_and_finds_the_la_poste_number() -> None:
    fakes = FakeCarriers().add(Parcel("LP00123456789012", destination="FR", last_mile="RR123456785FR",
                                      last_mile_provider="La Poste"))
    status = one(tracker(fakes, "cainiao", "laposte"), "LP00123456789012", "cainiao")
    assert status.last_mile is not None and status.last_mile.carrier == "laposte"
    assert status.last_mile.number == "RR123456785FR"
    assert status.status == "delivered" and status.last_mile_status == "delivered"
    assert status.destination_country == "FR"
    assert status.events[0].code == "DI1"
    assert "2026-06-15T13:06:40+08:00" in [e.time for e in status.events]


def test_destination_post_is_asked_about_the_s10_itself_when_no_other_number_is_known() -> None:
    fakes = FakeCarriers().add(Parcel(ORIGIN, destination="FR"))
    status = one(tracker(fakes, "cainiao", "laposte"), ORIGIN, "china_post")
    assert status.last_mile is not None and (status.last_mile.carrier, status.last_mile.number) == ("laposte", ORIGIN)
    assert status.last_mile_status == "delivered"


def test_post_office_that_cannot_track_the_number_is_recorded_as_such() -> None:
    fakes = FakeCarriers(usps_knows_s10=False).add(Parcel(ORIGIN, destination="US"))
    status = one(tracker(fakes, "cainiao", "usps"), ORIGIN, "china_post")
    assert status.status == "delivered" and status.last_mile_status == "not_found"
    assert "150002" in (status.legs[-1].error or "")


def test_unknown_number_is_a_permanent_explained_result() -> None:
    fakes = FakeCarriers()
    status = one(tracker(fakes, "seventeen_track"), "LV999999990CN", "china_post")
    assert status.status == "not_found" and not status.retry
    assert "carrier cannot be detected" in (status.error or "")
    assert fakes.calls("/gettrackinfo") == []


def test_cainiao_unknown_number() -> None:
    status = one(tracker(FakeCarriers(), "cainiao"), "LP00000000000001", "cainiao")
    assert status.status == "not_found" and "no record" in (status.error or "") and not status.retry


def test_wrong_17track_key_is_a_retryable_failure_naming_the_provider() -> None:
    status = one(tracker(FakeCarriers(), "seventeen_track", env={**ENV, "SEVENTEEN": "wrong"}), ORIGIN, "china_post")
    assert status.retry and "seventeen_track: refused the key" in (status.error or "")


def test_429_with_retry_after_is_retried() -> None:
    fakes = FakeCarriers().add(Parcel(ORIGIN, last_mile=IMPB))
    fakes.fail_next(1, lambda r: httpx.Response(429, headers={"Retry-After": "0"}, text="slow down"))
    status = one(tracker(fakes, "seventeen_track"), ORIGIN, "china_post")
    assert status.status == "delivered"
    assert len(fakes.calls("/register")) == 2


def test_500_until_attempts_run_out_leaves_the_number_for_later() -> None:
    fakes = FakeCarriers().add(Parcel(ORIGIN))
    fakes.fail_next(3, lambda r: httpx.Response(500, text="oops"))
    status = one(tracker(fakes, "seventeen_track"), ORIGIN, "china_post")
    assert status.retry and status.status == "not_found"
    assert "server error (HTTP 500) (after 3 attempts)" in (status.error or "")


def _timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("read timed out", request=request)


def test_timeout_is_retried() -> None:
    fakes = FakeCarriers().add(Parcel(ORIGIN, last_mile=IMPB))
    fakes.fail_next(2, _timeout)
    assert one(tracker(fakes, "seventeen_track"), ORIGIN, "china_post").status == "delivered"
    assert len(fakes.calls("/register")) == 3


@pytest.mark.parametrize("response, words", [
    (httpx.Response(200, text='{"code": 0, "data": {', headers={"content-type": "application/json"}),
     "application/json that is not valid JSON"),
    (httpx.Response(200, text="<html><h1>Maintenance</h1></html>", headers={"content-type": "text/html"}),
     "text/html that is not valid JSON"),
    (httpx.Response(200, json={"unexpected": ["shape"]}), "answered HTTP 200"),
])
def test_garbage_is_an_error_naming_the_provider(response: httpx.Response, words: str) -> None:
    fakes = FakeCarriers().add(Parcel(ORIGIN))
    fakes.fail_next(1, lambda r: response)
    status = one(tracker(fakes, "cainiao"), ORIGIN, "china_post")
    assert status.retry and status.error is not None and status.error.startswith("cainiao: ") and words in status.error


def test_a_provider_that_is_down_does_not_block_the_others() -> None:
    fakes = FakeCarriers().add(Parcel(ORIGIN, last_mile=IMPB))

    def cainiao_down(request: httpx.Request) -> httpx.Response | None:
        return httpx.Response(503, text="down") if request.url.path.endswith("/detail.json") else None

    fakes.fail_next(3, cainiao_down)
    status = one(tracker(fakes, "seventeen_track", "cainiao"), ORIGIN, "china_post")
    assert len(fakes.calls("/detail.json")) == 3
    assert status.status == "delivered" and status.provider == "seventeen_track" and not status.retry


def test_usps_token_is_cached_and_renewed_when_rejected() -> None:
    second = Parcel("LV000000000CN", last_mile="9400100000000000000000")
    fakes = FakeCarriers().add(Parcel(ORIGIN, last_mile=IMPB)).add(second)
    t = tracker(fakes, "usps")
    assert one(t, IMPB, "usps").status == "delivered"
    assert one(t, "9400100000000000000000", "usps").status == "delivered"
    assert fakes.tokens_issued == 1
    fakes.valid_tokens.clear()
    t.cache = MemoryCache(timedelta(0))
    assert one(t, IMPB, "usps").status == "delivered"
    assert fakes.tokens_issued == 2


def test_usps_bad_credentials_and_unknown_number() -> None:
    bad = one(tracker(FakeCarriers(), "usps", env={**ENV, "USPS_SECRET": "nope"}), IMPB, "usps")
    assert bad.retry and "usps: refused the client credentials" in (bad.error or "")
    unknown = one(tracker(FakeCarriers(), "usps"), IMPB, "usps")
    assert unknown.status == "not_found" and not unknown.retry and "150002" in (unknown.error or "")


def test_laposte_unknown_number() -> None:
    status = one(tracker(FakeCarriers(), "laposte"), "RR123456785FR", "laposte")
    assert status.status == "not_found" and "Votre numéro est inconnu" in (status.error or "")


def test_at_most_one_call_per_number_per_ttl() -> None:
    fakes = FakeCarriers().add(Parcel(ORIGIN))
    now = [NOW]
    t = tracker(fakes, "cainiao", clock=lambda: now[0])
    one(t, ORIGIN, "china_post")
    one(t, ORIGIN, "china_post")
    assert len(fakes.calls("/detail.json")) == 1
    now[0] = NOW + timedelta(minutes=61)
    one(t, ORIGIN, "china_post")
    assert len(fakes.calls("/detail.json")) == 2


def test_17track_batches_of_40() -> None:
    fakes = FakeCarriers()
    numbers = [f"LP{i:014d}" for i in range(45)]
    for n in numbers:
        fakes.add(Parcel(n))
    results = tracker(fakes, "seventeen_track").track([(n, "cainiao") for n in numbers])
    assert all(results[n].status == "delivered" for n in numbers)
    assert [len(__import__("json").loads(r.content)) for r in fakes.calls("/register")] == [40, 5]


def test_provider_without_credentials_is_off_and_says_why() -> None:
    t = tracker(FakeCarriers(), "seventeen_track", "cainiao", env={})
    assert list(t.adapters) == ["cainiao"]
    assert t.skipped == ["tracking.seventeen_track: no credentials in api_key_env (SEVENTEEN)"]


def test_last_mile_found_in_event_text_by_check_digit() -> None:
    fakes = FakeCarriers().add(Parcel(ORIGIN))
    entry_text = f"Handed over to USPS, new tracking number {IMPB[:4]} {IMPB[4:]}"
    original = fakes.handle

    def handle(request: httpx.Request) -> httpx.Response:
        response = original(request)
        body = response.json()
        body["module"][0]["detailList"].insert(1, {"timeStr": "2026-07-01 10:00:00", "timeZone": "GMT+8",
                                                    "desc": entry_text, "actionCode": "CC_HO_OUT_SUCCESS"})
        return httpx.Response(200, json=body)

    t = build_tracker(TrackingConfig(cainiao=settings()), MemoryCache(timedelta(hours=1)), env={},
                      clock=lambda: NOW, transport=httpx.MockTransport(handle))
    status = one(t, ORIGIN, "china_post")
    assert status.last_mile is not None and (status.last_mile.carrier, status.last_mile.number) == ("usps", IMPB)


AUSPOST = {"tracking_results": [
    {"tracking_id": "7XX1000", "errors": [{"code": "ESB-10001", "name": "Invalid tracking ID"}]},
    {"tracking_id": "7XX1000634011427", "status": "Delivered", "trackable_items": [{
        "article_id": "7XX1000634011427", "product_type": "eParcel", "status": "Delivered", "events": [
            {"location": "ALEXANDRIA NSW", "description": "Delivered", "date": "2014-05-30T14:43:09+10:00"},
            {"location": "ALEXANDRIA NSW", "description": "With Australia Post for delivery today",
             "date": "2014-05-30T06:08:51+10:00"},
            {"description": "Shipping information approved by Australia Post", "date": "2014-05-23T14:27:15+10:00"}]}]}]}


def test_australia_post_contract() -> None:
    unknown = parse_result("7XX1000", AUSPOST["tracking_results"][0], NOW)
    assert unknown.status == "not_found" and "ESB-10001" in (unknown.error or "")
    delivered = parse_result("7XX1000634011427", AUSPOST["tracking_results"][1], NOW)
    assert delivered.status == "delivered" and delivered.delivered_at == "2014-05-30T14:43:09+10:00"
    assert delivered.events[1].description == "With Australia Post for delivery today"


def test_royal_mail_contract() -> None:
    payload = {"mailPieces": {"mailPieceId": "090367574000000FE1E1B", "carrierShortName": "RM", "summary": {
        "oneDBarcode": "LV770224450CN", "originCountryCode": "CHN", "destinationCountryCode": "GBR",
        "lastEventCode": "EVKSF", "lastEventName": "Delivered to Safeplace",
        "lastEventDateTime": "2026-07-08T11:42:00+01:00",
        "statusCategory": "DELIVERED"}, "events": [{"eventCode": "EVKSF", "eventName": "Delivered to Safeplace",
                                                     "eventDateTime": "2026-07-08T11:42:00+01:00",
                                                     "locationName": "Stafford DO"}]}}
    status = parse_mailpiece("LV770224450CN", payload, NOW)
    assert (status.status, status.origin_country, status.destination_country) == ("delivered", "CN", "GB")
    assert status.events[0].location == "Stafford DO"


def test_dhl_contract_with_local_number() -> None:
    shipment = {"id": "00340434511539026190", "service": "ecommerce-europe",
                "origin": {"address": {"countryCode": "CN"}}, "destination": {"address": {"countryCode": "GB"}},
                "status": {"timestamp": "2026-04-26T09:52:37+02:00", "statusCode": "delivered", "status": "delivered"},
                "details": {"provider": {"destinationProvider": "parcel-uk"},
                            "references": [{"number": "RR123456785GB", "type": "local-tracking-number"}]},
                "events": [{"timestamp": "2026-04-26T09:52:37+02:00", "statusCode": "delivered",
                            "description": "Delivered", "location": {"address": {"addressLocality": "London"}}}]}
    status = parse_dhl("00340434511539026190", shipment, NOW)
    assert status.status == "delivered" and status.last_mile is not None
    assert (status.last_mile.carrier, status.last_mile.number) == ("royal_mail", "RR123456785GB")


def test_yunexpress_contract() -> None:
    payload = {"Code": "0000", "Message": "Success", "Item": {
        "WayBillNumber": "YT2229521272164446", "TrackingNumber": IMPB, "CountryCode": "US", "OriginCountryCode": "CN",
        "LastMileCarrierName": "USPS", "TrackingStatus": "50", "OrderTrackingDetails": [
            {"ProcessDate": "2026-07-10T14:15:00", "ProcessLocation": "LAS VEGAS, NV",
             "ProcessContent": "Delivered, In/At Mailbox", "TrackingStatus": "50"},
            {"ProcessDate": "2026-06-26T09:00:00", "ProcessLocation": "Shenzhen",
             "ProcessContent": "Shipment information received", "TrackingStatus": "10"}]}}
    status = parse_track_info("YT2229521272164446", payload, NOW)
    assert status.status == "delivered" and status.last_mile is not None and status.last_mile.number == IMPB
    unknown = parse_track_info("YT0000000000000000", {"Code": "1001", "Message": "no data", "Item": None}, NOW)
    assert unknown.status == "not_found" and "no data" in (unknown.error or "")


def test_in_transit_parcel_keeps_its_status_and_has_no_delivery_time() -> None:
    fakes = FakeCarriers().add(Parcel(ORIGIN, last_mile=IMPB, delivered=False))
    status = one(tracker(fakes, "seventeen_track", "usps"), ORIGIN, "china_post")
    assert status.status == "out_for_delivery" and status.delivered_at is None
    assert status.last_mile_status == "out_for_delivery"


def _serving(payload: Any, status: int = 200, expect: dict[str, str] | None = None) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        for header, value in (expect or {}).items():
            if request.headers.get(header) != value:
                return httpx.Response(401, json={"error": "unauthorised"})
        return httpx.Response(status, json=payload)

    return httpx.MockTransport(handle)


POST_CASES = {
    "australia_post": ({"api_key_env": "K", "password_env": "P", "account_number_env": "A"},
                       {"K": "key", "P": "pw", "A": "1234567890"},
                       {"Account-Number": "1234567890", "Authorization": "Basic a2V5OnB3"}),
    "royal_mail": ({"client_id_env": "K", "client_secret_env": "P"}, {"K": "id", "P": "secret"},
                   {"X-IBM-Client-Id": "id", "X-IBM-Client-Secret": "secret", "X-Accept-RMG-Terms": "yes"}),
    "dhl": ({"api_key_env": "K"}, {"K": "dhl-key"}, {"DHL-API-Key": "dhl-key"}),
    "yunexpress": ({"api_key_env": "K"}, {"K": "C123&s3cret"}, {"Authorization": "Basic QzEyMyZzM2NyZXQ="}),
}
DELIVERED_PAYLOADS: dict[str, tuple[str, str, Any]] = {
    "australia_post": ("7XX1000634011427", "australia_post", AUSPOST),
    "royal_mail": ("RR123456785GB", "royal_mail", {"mailPieces": {"summary": {"statusCategory": "DELIVERED"}, "events": [
        {"eventCode": "EVKSP", "eventName": "Delivered and Signed", "eventDateTime": "2026-07-08T11:42:00+01:00"}]}}),
    "dhl": ("JJD000390007882366", "dhl", {"shipments": [{"id": "JJD000390007882366", "status": {
        "statusCode": "delivered", "timestamp": "2026-04-26T09:52:37+02:00"}, "events": []}]}),
    "yunexpress": ("YT2229521272164446", "yunexpress", {"Code": "0000", "Item": {"WayBillNumber": "YT2229521272164446",
                   "OrderTrackingDetails": [{"ProcessDate": "2026-07-10T14:15:00", "ProcessContent": "Delivered"}]}}),
}


@pytest.mark.parametrize("name", sorted(POST_CASES))
def test_adapter_over_http_with_its_credentials(name: str) -> None:
    keys, env, expect = POST_CASES[name]
    number, carrier, payload = DELIVERED_PAYLOADS[name]
    config = TrackingConfig(**{name: settings(**keys)})
    good = build_tracker(config, MemoryCache(timedelta(hours=1)), env=env, clock=lambda: NOW,
                         transport=_serving(payload, expect=expect))
    assert one(good, number, carrier).status == "delivered"
    wrong = {k: v + "x" for k, v in env.items()}
    refused = build_tracker(config, MemoryCache(timedelta(hours=1)), env=wrong, clock=lambda: NOW,
                            transport=_serving(payload, expect=expect))
    status = one(refused, number, carrier)
    assert status.retry and (status.error or "").startswith(f"{name}: refused")


@pytest.mark.parametrize("payload, status, retry, events", [
    ({"code": 0, "data": {"accepted": [{"number": ORIGIN, "track_info": ["not", "a", "mapping"]}]}},
     "not_found", False, 0),
    ({"code": 0, "data": {"accepted": [{"number": ORIGIN, "track_info": {
        "latest_status": {"status": "SomethingNew"},
        "tracking": {"providers": [{"events": [{"time_iso": 12, "description": None}]}]}}}]}},
     "in_transit", False, 1),
    ({"code": 0, "data": {"accepted": "nope"}}, "not_found", True, 0),
])
def test_a_payload_of_the_wrong_types_never_crashes(payload: dict[str, Any], status: str, retry: bool,
                                                    events: int) -> None:
    fakes = FakeCarriers().add(Parcel(ORIGIN))

    def odd(request: httpx.Request) -> httpx.Response | None:
        return httpx.Response(200, json=payload) if request.url.path.endswith("/gettrackinfo") else None

    fakes.fail_next(1, lambda r: None)
    fakes.fail_next(1, odd)
    answer = one(tracker(fakes, "seventeen_track"), ORIGIN, "china_post")
    assert (answer.status, answer.retry, len(answer.events)) == (status, retry, events)
    if retry:
        assert answer.error == "seventeen_track: said nothing about this number"
