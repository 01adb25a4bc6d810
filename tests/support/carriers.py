"""Fake carrier APIs at the HTTP edge, answering with the documented JSON shapes.

`FakeCarriers` is one dispatcher used two ways: as an httpx.MockTransport for adapter contract
tests, and behind a real local HTTP server (`serve()`) for the daemon's end-to-end test, selected
by `base_url`. Parcels are described once (`Parcel`) and rendered into each provider's JSON.
Scripted failures (`fail_next`) let a test make a provider throttle, crash, hang or talk garbage.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

SEVENTEEN_KEY = "seventeen-test-key"
AFTERSHIP_KEY = "aftership-test-key"
TRACKINGMORE_KEY = "trackingmore-test-key"
USPS_ID, USPS_SECRET = "usps-client", "usps-secret"
OKAPI_KEY = "okapi-test-key"
S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def s10(serial: int, prefix: str = "LV", country: str = "CN") -> str:
    """A valid UPU S10 number (check digit included) for the serial."""
    digits = f"{serial:08d}"
    check = 11 - sum(int(d) * w for d, w in zip(digits, S10_WEIGHTS, strict=True)) % 11
    return f"{prefix}{digits}{ {10: 0, 11: 5}.get(check, check)}{country}"


@dataclass
class Parcel:
    """One parcel as the fakes know it: origin number, last-mile number, delivered or not."""

    number: str
    destination: str = "US"
    last_mile: str | None = None
    last_mile_provider: str = "USPS"
    last_mile_key: int = 21051
    delivered: bool = True
    hidden_last_mile: bool = False  # the origin trackers do not know the last-mile number
    relays_last_mile: bool = True  # 17TRACK's answer for the origin number holds the local carrier's events


@dataclass
class FakeCarriers:
    parcels: dict[str, Parcel] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)  # time.monotonic() of each request, as received
    failures: list[Callable[[httpx.Request], httpx.Response | None]] = field(default_factory=list)
    tokens_issued: int = 0
    valid_tokens: set[str] = field(default_factory=set)
    usps_knows_s10: bool = True
    aftership_ids: dict[str, str] = field(default_factory=dict)
    trackingmore_ids: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, parcel: Parcel) -> FakeCarriers:
        self.parcels[parcel.number] = parcel
        return self

    def fail_next(self, times: int, response: Callable[[httpx.Request], httpx.Response | None]) -> None:
        """The next `times` requests get `response` (raise inside it to simulate a timeout)."""
        for _ in range(times):
            self.failures.append(response)

    def calls(self, path_part: str) -> list[httpx.Request]:
        return [r for r in self.requests if path_part in r.url.path]

    def _last_mile_of(self, number: str) -> Parcel | None:
        """The parcel whose destination-post number `number` is (a universal tracker asked about it)."""
        return next((p for p in self.parcels.values() if p.last_mile == number), None)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
            self.arrivals.append(time.monotonic())
            failure = self.failures.pop(0) if self.failures else None
        if failure is not None:
            response = failure(request)
            if response is not None:
                return response
        path = request.url.path
        if path.startswith("/aftership/"):
            return self._aftership(request)
        if path.startswith("/v4/"):
            return self._trackingmore(request)
        if path.endswith("/register") or path.endswith("/gettrackinfo"):
            return self._seventeen(request)
        if path.endswith("/detail.json"):
            return self._cainiao(request)
        if path.endswith("/oauth2/v3/token"):
            return self._usps_token(request)
        if "/tracking/v3/tracking/" in path:
            return self._usps(request)
        if "/idships/" in path:
            return self._laposte(request)
        return httpx.Response(404, text="<html><body>Not Found</body></html>", headers={"content-type": "text/html"})

    def _seventeen(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("17token") != SEVENTEEN_KEY:
            return httpx.Response(200, json={"code": -18010002, "data": {"errors": [
                {"code": -18010002, "message": "Invalid security key."}]}})
        items = json.loads(request.content)
        if len(items) > 40:
            return httpx.Response(200, json={"code": -18010014, "data": {"errors": [
                {"code": -18010014, "message": "more than 40"}]}})
        known = {i["number"] for i in items if i["number"] in self.parcels or self._last_mile_of(i["number"])}
        if request.url.path.endswith("/register"):
            accepted = [{"origin": 1, "number": i["number"], "carrier": 3011 if i["number"] in self.parcels else 21051}
                        for i in items if i["number"] in known]
            rejected = [{"number": i["number"], "error": {"code": -18019903, "message": "Carrier cannot be detected."}}
                        for i in items if i["number"] not in known]
            return httpx.Response(200, json={"code": 0, "data": {"accepted": accepted, "rejected": rejected}})
        accepted = []
        for number in (i["number"] for i in items):
            if number in self.parcels:
                accepted.append(seventeen_item(self.parcels[number]))
            elif (parcel := self._last_mile_of(number)) is not None:
                accepted.append(seventeen_local_item(number, parcel))
        rejected = [{"number": i["number"], "error": {"code": -18019902, "message": "does not register"}}
                    for i in items if i["number"] not in known]
        return httpx.Response(200, json={"code": 0, "data": {"accepted": accepted, "rejected": rejected}})

    def _cainiao(self, request: httpx.Request) -> httpx.Response:
        numbers = parse_qs(urlsplit(str(request.url)).query)["mailNos"][0].split(",")
        module = [cainiao_entry(self.parcels[n]) if n in self.parcels else
                  {"mailNo": n, "mailNoSource": "EXTERNAL", "detailList": []} for n in numbers]
        return httpx.Response(200, json={"module": module, "success": True})

    def _usps_token(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if (body.get("client_id"), body.get("client_secret")) != (USPS_ID, USPS_SECRET):
            return httpx.Response(401, json={"error": "invalid_client"})
        with self.lock:
            self.tokens_issued += 1
            token = f"token-{self.tokens_issued}"
            self.valid_tokens.add(token)
        return httpx.Response(200, json={"access_token": token, "token_type": "Bearer", "issued_at": "1783000000000",
                                         "expires_in": "28799", "status": "approved", "scope": "tracking"})

    def _usps(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization", "").removeprefix("Bearer ") not in self.valid_tokens:
            return httpx.Response(401, json={"error": {"code": "401", "message": "Unauthorized"}})
        number = request.url.path.rsplit("/", 1)[1]
        known = [(p.last_mile, p.number if self.usps_knows_s10 else None, p) for p in self.parcels.values()]
        parcel = next((p for last, own, p in known if number in (last, own)), None)
        if parcel is None or parcel.destination != "US":
            return httpx.Response(400, json=USPS_UNKNOWN)
        return httpx.Response(200, json=usps_details(number, parcel))

    def _laposte(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("X-Okapi-Key") != OKAPI_KEY:
            return httpx.Response(401, json={"code": "UNAUTHORIZED", "message": "Invalid key"})
        number = request.url.path.rsplit("/", 1)[1]
        parcel = next((p for p in self.parcels.values() if number in (p.last_mile, p.number)), None)
        if parcel is None or parcel.destination != "FR":
            return httpx.Response(400, json={"returnCode": 400, "returnMessage": "Votre numéro est inconnu. Veuillez le "
                                             "ressaisir en respectant le format.", "lang": "fr_FR", "scope": "open",
                                             "idShip": number})
        return httpx.Response(200, json=laposte_shipment(number, parcel))

    def _aftership(self, request: httpx.Request) -> httpx.Response:
        """AfterShip Tracking API 2025-07 under /aftership: create, get by id, list by numbers."""
        if request.headers.get("as-api-key") != AFTERSHIP_KEY:
            return aftership_error(401, 401, "Invalid API key.", "Unauthorized")
        path = request.url.path.removeprefix("/aftership/tracking/2025-07")
        if request.method == "POST" and path == "/trackings":
            number = json.loads(request.content)["tracking_number"]
            if number in self.aftership_ids:
                return aftership_error(400, 4003, "Tracking already exists.", "BadRequest")
            if number not in self.parcels and self._last_mile_of(number) is None:
                return aftership_error(400, 4012, "Cannot detect courier. Activate courier at "
                                       "https://admin.aftership.com/settings/couriers.", "BadRequest")
            with self.lock:
                self.aftership_ids[number] = f"as{len(self.aftership_ids) + 1:030d}"
            created = {**aftership_tracking(number, None), "id": self.aftership_ids[number]}
            return httpx.Response(201, json={"meta": {"code": 201, "message": "Created", "type": "Created"},
                                             "data": created})
        if request.method == "GET" and path == "/trackings":
            numbers = parse_qs(urlsplit(str(request.url)).query)["tracking_numbers"][0].split(",")
            found = [self._aftership_view(n) for n in numbers if n in self.aftership_ids]
            return httpx.Response(200, json={"meta": {"code": 200, "message": "OK", "type": "OK"}, "data": {
                "pagination": {"total": len(found), "next_cursor": None, "has_next_page": False}, "trackings": found}})
        if request.method == "GET" and path.startswith("/trackings/"):
            wanted = path.rsplit("/", 1)[1]
            number = next((n for n, i in self.aftership_ids.items() if i == wanted), None)
            if number is None:
                return aftership_error(404, 4004, "Tracking does not exist.", "NotFound")
            return httpx.Response(200, json={"meta": {"code": 200, "message": "OK", "type": "OK"},
                                             "data": self._aftership_view(number)})
        return aftership_error(404, 404, "The URI requested is invalid or the resource requested does not exist.",
                               "NotFound")

    def _aftership_view(self, number: str) -> dict[str, Any]:
        parcel = self.parcels.get(number)
        return {**aftership_tracking(number, parcel, local=self._last_mile_of(number)),
                "id": self.aftership_ids[number]}

    def _trackingmore(self, request: httpx.Request) -> httpx.Response:
        """TrackingMore v4 under /v4: detect a courier, create trackings in a batch, get results."""
        if request.headers.get("Tracking-Api-Key") != TRACKINGMORE_KEY:
            return httpx.Response(401, json={"meta": {"code": 401, "message": "Unauthorized. Invalid API key."},
                                             "data": []})
        path = request.url.path.removeprefix("/v4")
        ok = {"code": 200, "message": "Request response is successful"}
        if path == "/couriers/detect":
            number = json.loads(request.content)["tracking_number"]
            if number not in self.parcels and self._last_mile_of(number) is None:
                return httpx.Response(200, json={"meta": {"code": 4032, "message": "Unable to identify courier."},
                                                 "data": []})
            code = "china-post" if number in self.parcels else "usps"
            return httpx.Response(200, json={"meta": ok, "data": [{"courier_name": code.upper(), "courier_code": code}]})
        if path == "/trackings/batch":
            items = json.loads(request.content)
            if len(items) > 40:
                return httpx.Response(200, json={"meta": {"code": 4020, "message": "Max. 40 tracking numbers."},
                                                 "data": []})
            success, error = [], []
            for item in items:
                number = item["tracking_number"]
                if number not in self.parcels and self._last_mile_of(number) is None:
                    error.append({"id": None, "tracking_number": number, "courier_code": item["courier_code"],
                                  "errorCode": 4014, "errorMessage": "The value of `tracking_number` is invalid."})
                elif number in self.trackingmore_ids:  # created before: TrackingMore says it exists
                    error.append({"id": None, "tracking_number": number, "courier_code": item["courier_code"],
                                  "errorCode": 4101, "errorMessage": "Tracking No. already exists."})
                else:
                    with self.lock:
                        self.trackingmore_ids[number] = f"tm{len(self.trackingmore_ids) + 1:030d}"
                    success.append({"id": self.trackingmore_ids[number], "tracking_number": number,
                                    "courier_code": item["courier_code"]})
            return httpx.Response(200, json={"meta": ok, "data": {"success": success, "error": error}})
        if path == "/trackings/get":
            numbers = parse_qs(urlsplit(str(request.url)).query)["tracking_numbers"][0].split(",")
            data = [trackingmore_item(n, self.parcels.get(n), self._last_mile_of(n), self.trackingmore_ids.get(n, ""))
                    for n in numbers if n in self.trackingmore_ids]
            if not data:
                return httpx.Response(200, json={"meta": {"code": 4031, "message": "No data."}, "data": []})
            return httpx.Response(200, json={"meta": ok, "data": data})
        return httpx.Response(404, json={"meta": {"code": 404, "message": "Not Found"}, "data": []})

    def serve(self) -> LocalServer:
        return LocalServer(self)


class LocalServer:
    """The fakes on a real loopback port: `url` is the base every provider's base_url points at."""

    def __init__(self, fakes: FakeCarriers) -> None:
        fakes_ref = fakes
        self.peers: list[int] = []
        peers = self.peers

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keeps connections open, as carriers' servers do
            disable_nagle_algorithm = True  # headers and body are two writes: no delayed-ACK stall

            def _any(self) -> None:
                peers.append(self.client_address[1])
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = httpx.Request(self.command, f"http://127.0.0.1{self.path}", headers=dict(self.headers),
                                        content=body)
                response = fakes_ref.handle(request)
                self.send_response(response.status_code)
                for key, value in response.headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(response.content)))
                self.end_headers()
                self.wfile.write(response.content)

            do_GET = do_POST = do_PUT = do_DELETE = _any

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


USPS_UNKNOWN = {"apiVersion": "v3", "error": {"code": "400", "message": "Bad Request", "errors": [
    {"status": "400", "code": "150002", "title": "Bad Request",
     "detail": "7: The tracking number may be incorrect or the status update is not yet available. "
               "Please verify your tracking number and try again later."}]}}


def _address(country: str) -> dict[str, Any]:
    return {"country": country, "state": None, "city": None, "street": None, "postal_code": None,
            "coordinates": {"longitude": None, "latitude": None}}


def seventeen_item(p: Parcel, relayed: bool | None = None) -> dict[str, Any]:
    """A /gettrackinfo accepted[] item shaped like the documented v2.2 example."""
    relayed = p.relays_last_mile if relayed is None else relayed
    status = ("Delivered", "Delivered_Other") if p.delivered else ("InTransit", "InTransit_Arrival")
    shown = None if p.hidden_last_mile else p.last_mile
    last_events = [{"time_iso": "2026-07-10T14:15:00-07:00", "time_utc": "2026-07-10T21:15:00Z",
                    "description": "Delivered, In/At Mailbox", "location": "LAS VEGAS, NV 89101", "stage": "Delivered",
                    "sub_status": "Delivered_Other", "address": _address(p.destination)}] if p.delivered else []
    origin_events = [{"time_iso": "2026-06-26T09:00:00+08:00", "time_utc": "2026-06-26T01:00:00Z",
                      "description": "Posting/Collection", "location": "SHENZHEN", "stage": "PickedUp",
                      "sub_status": "InTransit_PickedUp", "address": _address("CN")}]
    providers = [{"provider": {"key": 3011, "name": "China Post", "alias": "China Post", "tel": None,
                               "homepage": "http://www.chinapost.com.cn", "country": "CN"},
                  "service_type": None, "latest_sync_status": "Success", "latest_sync_time": "2026-07-10T21:30:00Z",
                  "events_hash": 111, "events": origin_events}]
    if p.last_mile and not p.hidden_last_mile:
        provider = {"key": p.last_mile_key, "name": p.last_mile_provider, "alias": p.last_mile_provider, "tel": None,
                    "homepage": None, "country": p.destination}
        providers.insert(0, {"provider": provider,
                             "service_type": None, "latest_sync_status": "Success",
                             "latest_sync_time": "2026-07-10T21:30:00Z", "events_hash": 222,
                             "events": last_events if relayed else []})
    return {"number": p.number, "carrier": 3011, "param": None, "tag": None, "track_info": {
        "shipping_info": {"shipper_address": _address("CN"), "recipient_address": _address(p.destination)},
        "latest_status": {"status": status[0], "sub_status": status[1], "sub_status_descr": None},
        "latest_event": (last_events or origin_events)[0],
        "time_metrics": {"days_after_order": 16, "days_of_transit": 15, "days_of_transit_done": 15,
                         "days_after_last_update": 0, "estimated_delivery_date": {"source": None, "from": None, "to": None}},
        "milestone": [{"key_stage": "Delivered", "time_iso": "2026-07-10T14:15:00-07:00" if p.delivered else None,
                       "time_utc": "2026-07-10T21:15:00Z" if p.delivered else None}],
        "misc_info": {"risk_factor": 0, "service_type": "ePacket", "weight_raw": "0.2kg", "weight_kg": "0.20",
                      "pieces": None, "dimensions": None, "customer_number": None, "reference_number": None,
                      "local_number": shown or "", "local_provider": p.last_mile_provider if shown else "",
                      "local_key": p.last_mile_key if shown else 0},
        "tracking": {"providers_hash": 12345, "providers": providers},
    }}


def cainiao_entry(p: Parcel) -> dict[str, Any]:
    """A detail.json module[] entry shaped like the documented (redacted real) payload."""
    delivered = {"time": 1783018517000, "timeStr": "2026-07-03 10:55:17", "desc": "Parcel delivered",
                 "standerdDesc": "Package delivered", "descTitle": "Carrier note:", "timeZone": "GMT+02:00",
                 "actionCode": "GTMS_SIGNED", "group": {"nodeCode": "AE_GROUP_DELIVERED", "nodeDesc": "Delivered"}}
    accepted = {"time": 1781500000000, "timeStr": "2026-06-15 13:06:40", "desc": "Accepted by carrier",
                "standerdDesc": "Received by logistics company", "descTitle": "Carrier note:", "timeZone": "GMT+8",
                "actionCode": "PU_PICKUP_SUCCESS"}
    details = [delivered, accepted] if p.delivered else [accepted]
    entry: dict[str, Any] = {
        "mailNo": p.number, "mailNoSource": "AE", "originCountry": "Mainland China",
        "destCountry": {"US": "United States", "FR": "France"}.get(p.destination, p.destination),
        "status": "DELIVERED" if p.delivered else "TRANSITING", "statusDesc": "Delivered" if p.delivered else "In transit",
        "latestTrace": details[0], "detailList": details,
    }
    if p.last_mile and not p.hidden_last_mile:
        entry.update(copyRealMailNo=p.last_mile, realMailNo=f"Latest Tracking Number:\t{p.last_mile}",
                     destCpInfo={"cpName": p.last_mile_provider, "cpCode": p.last_mile_provider.upper()})
    return entry


def usps_details(number: str, p: Parcel) -> dict[str, Any]:
    events = [{"eventType": "Out for Delivery", "eventTimestamp": "2026-07-10T06:10:00Z",
               "GMTTimestamp": "2026-07-10T13:10:00.000Z", "GMTOffset": "-7:00", "eventCountry": None,
               "eventCity": "LAS VEGAS", "eventState": "NV", "eventZIP": "89101", "firm": None, "name": None,
               "authorizedAgent": "false", "eventCode": "OF"}]
    if p.delivered:
        events.insert(0, {"eventType": "Delivered, In/At Mailbox", "eventTimestamp": "2026-07-10T14:15:00Z",
                          "GMTTimestamp": "2026-07-10T21:15:00.000Z", "GMTOffset": "-7:00", "eventCountry": None,
                          "eventCity": "LAS VEGAS", "eventState": "NV", "eventZIP": "89101", "firm": None, "name": None,
                          "authorizedAgent": False, "eventCode": "01"})
    return {"trackingNumber": number, "mailClass": "USPS Ground Advantage<SUP>&#8482;</SUP>",
            "mailType": "INTERNATIONAL_INBOUND", "destinationCity": "LAS VEGAS", "destinationState": "NV",
            "destinationZIP": "89101", "status": events[0]["eventType"],
            "statusCategory": "Delivered" if p.delivered else "Out for Delivery",
            "statusSummary": "Your item was delivered in or at the mailbox.", "trackingEvents": events}


def laposte_shipment(number: str, p: Parcel) -> dict[str, Any]:
    events = [{"code": "MD2", "label": "Votre courrier est en cours de distribution.", "date": "2026-07-08T08:00:00+02:00"},
              {"code": "PC2", "label": "Votre courrier a été pris en charge dans le pays d'expédition.",
               "date": "2026-06-27T09:00:00+02:00"}]
    if p.delivered:
        events.insert(0, {"code": "DI1", "label": "Votre courrier a été distribué à l'adresse.",
                          "date": "2026-07-08T11:42:00+02:00"})
    return {"lang": "fr_FR", "scope": "open", "returnCode": 200, "shipment": {
        "idShip": number, "holder": 2, "product": "Courrier international", "isFinal": p.delivered,
        "entryDate": "2026-06-26T09:00:00+02:00", "deliveryDate": "2026-07-08T11:42:00+02:00" if p.delivered else None,
        "event": events, "contextData": {"deliveryChoice": {"deliveryChoice": 0}, "originCountry": "CN",
                                         "arrivalCountry": "FR"},
        "url": f"https://www.laposte.fr/outils/suivre-vos-envois?code={number}"}}


def seventeen_local_item(number: str, p: Parcel) -> dict[str, Any]:
    """A /gettrackinfo accepted[] item for a destination post's own number (17TRACK asked about it)."""
    item = seventeen_item(p, relayed=True)
    info = item["track_info"]
    local = [entry for entry in info["tracking"]["providers"] if entry["provider"]["key"] == p.last_mile_key]
    info["tracking"]["providers"] = local or [{**info["tracking"]["providers"][-1], "events": []}]
    info["misc_info"].update(local_number="", local_provider="", local_key=0)
    return {**item, "number": number, "carrier": p.last_mile_key}


def aftership_error(status: int, code: int, message: str, kind: str) -> httpx.Response:
    return httpx.Response(status, json={"meta": {"code": code, "message": message, "type": kind}, "data": {}})


def _checkpoint(time: str, message: str, location: str, country: str, tag: str, subtag: str, slug: str
                ) -> dict[str, Any]:
    return {"created_at": "2026-07-10T21:30:00+00:00", "slug": slug, "checkpoint_time": time, "location": location,
            "city": location.split(",")[0], "state": None, "zip": None, "coordinate": {"latitude": None,
                                                                                        "longitude": None},
            "country_region": country, "country_region_name": None, "message": message, "tag": tag,
            "subtag": subtag, "subtag_message": tag, "raw_tag": "FPX_L_RPIF", "events": [], "source": "Carrier"}


def aftership_tracking(number: str, p: Parcel | None, local: Parcel | None = None) -> dict[str, Any]:
    """A tracking object of AfterShip 2025-07 (get, or an item of the list), with fields we never read."""
    origin = [_checkpoint("2026-06-26T09:00:00+08:00", "Posting/Collection", "SHENZHEN", "CHN", "InTransit",
                          "InTransit_002", "china-post")]
    destination = [_checkpoint("2026-07-10T14:15:00-07:00", "Delivered, In/At Mailbox", "LAS VEGAS, NV", "USA",
                               "Delivered", "Delivered_001", "usps"),
                   _checkpoint("2026-07-10T06:10:00-07:00", "Out for Delivery", "LAS VEGAS, NV", "USA",
                               "OutForDelivery", "OutForDelivery_001", "usps")]
    parcel = p or local
    if parcel is None:  # just created: AfterShip has no news yet
        checkpoints: list[dict[str, Any]] = []
        tag, slug, last_mile = "Pending", "china-post", None
    elif local is not None:  # asked about the destination post's own number
        checkpoints, tag, slug, last_mile = destination, "Delivered", "usps", None
    else:
        shown = bool(parcel.last_mile) and not parcel.hidden_last_mile
        if not parcel.delivered:
            checkpoints = origin
        elif parcel.hidden_last_mile:  # only the origin carrier's word for the delivery
            checkpoints = [_checkpoint("2026-07-10T14:15:00-07:00", "Delivered", "UNITED STATES", "USA", "Delivered",
                                       "Delivered_001", "china-post"), *origin]
        else:
            checkpoints = [*destination, *origin]
        tag = checkpoints[0]["tag"]
        slug = "china-post"
        last_mile = {"tracking_number": parcel.last_mile, "slug": "usps", "transit_time": 2,
                     "courier_tracking_link": f"https://tools.usps.com/go/TrackConfirmAction?tLabels={parcel.last_mile}",
                     "courier_redirect_link": None, "source": "Carrier"} if shown else None
    return {
        "tracking_number": number, "slug": slug, "active": tag != "Delivered", "tag": tag,
        "subtag": f"{tag}_001", "subtag_message": tag, "origin_country_region": "CHN",
        "destination_country_region": "USA" if parcel is None or parcel.destination == "US" else "FRA",
        "transit_time": 15, "courier_tracking_link": None, "order_id": "1043", "title": "#1043",
        "custom_fields": None, "shipment_weight": {"value": 0.2, "unit": "kg"}, "signed_by": None,
        "checkpoints": checkpoints, "last_mile": last_mile, "aftership_estimated_delivery_date": None,
        "first_mile": {"tracking_number": number, "slug": "china-post"}, "tracking_ship_date": None,
    }


def _trackinfo(time: str, detail: str, location: str, status: str, sub: str) -> dict[str, Any]:
    return {"checkpoint_date": time, "tracking_detail": detail, "location": location,
            "checkpoint_delivery_status": status, "checkpoint_delivery_substatus": sub}


def trackingmore_item(number: str, p: Parcel | None, local: Parcel | None, tracking_id: str) -> dict[str, Any]:
    """A get-results data[] item of TrackingMore v4 (origin_info / destination_info), with extra fields."""
    origin = [_trackinfo("2026-06-26T09:00:00+08:00", "Posting/Collection", "SHENZHEN", "transit", "transit001")]
    destination = [_trackinfo("2026-07-10T14:15:00-07:00", "Delivered, In/At Mailbox", "LAS VEGAS, NV 89101",
                              "delivered", "delivered001"),
                   _trackinfo("2026-07-10T06:10:00-07:00", "Out for Delivery", "LAS VEGAS, NV 89101", "pickup",
                              "pickup001")]
    parcel = p or local
    assert parcel is not None
    at_destination = local is not None or (parcel.delivered and not parcel.hidden_last_mile)
    destination_events = destination if at_destination else []
    origin_events = [] if local is not None else origin
    if parcel.delivered and parcel.hidden_last_mile:  # only the origin carrier's word for the delivery
        origin_events = [_trackinfo("2026-07-10T14:15:00-07:00", "Delivered", "UNITED STATES", "delivered",
                                    "delivered001"), *origin_events]
    status = "delivered" if parcel.delivered else "transit"
    return {
        "id": tracking_id, "tracking_number": number, "courier_code": "usps" if local is not None else "china-post",
        "order_number": "#1043", "order_date": None, "created_at": "2026-07-12T12:00:00+00:00",
        "update_at": "2026-07-12T12:00:00+00:00", "delivery_status": status, "archived": "tracking",
        "updating": False, "destination_country": parcel.destination, "destination_state": "NV",
        "destination_city": None, "origin_country": "CN" if local is None else "US", "origin_state": None,
        "origin_city": None, "tracking_postal_code": None, "tracking_ship_date": None,
        "tracking_destination_country": None, "tracking_origin_country": None, "tracking_key": None,
        "tracking_courier_account": None, "customer_name": None, "customer_email": None, "customer_sms": None,
        "recipient_postcode": None, "order_id": None, "title": None, "logistics_channel": None, "note": None,
        "label": None, "signed_by": None, "service_code": None, "weight": None, "weight_kg": None,
        "product_type": None, "pieces": None, "dimension": None, "previously": None,
        "destination_track_number": None, "exchange_number": None, "scheduled_delivery_date": None,
        "scheduled_address": None, "substatus": f"{status}001", "status_info": None,
        "latest_event": (destination_events or origin_events)[0]["tracking_detail"],
        "latest_checkpoint_time": (destination_events or origin_events)[0]["checkpoint_date"],
        "transit_time": 15, "stay_time": 2,
        "origin_info": {"courier_code": "china-post", "courier_phone": "11183", "weblink": "http://www.ems.com.cn/",
                        "reference_number": None, "milestone_date": {"inforeceived_date": None, "pickup_date": None,
                                                                     "outfordelivery_date": None,
                                                                     "delivery_date": None, "returning_date": None,
                                                                     "returned_date": None},
                        "pickup_date": None, "departed_airport_date": None, "arrived_abroad_date": None,
                        "customs_received_date": None, "trackinfo": origin_events},
        "destination_info": {"courier_code": "usps", "courier_phone": "+1 800-275-8777",
                             "weblink": "https://www.usps.com/", "reference_number": None,
                             "milestone_date": {}, "pickup_date": None, "departed_airport_date": None,
                             "arrived_abroad_date": None, "customs_received_date": None,
                             "trackinfo": destination_events},
    }
