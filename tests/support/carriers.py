"""Fake carrier APIs at the HTTP edge, answering with the documented JSON shapes.

`FakeCarriers` is one dispatcher used two ways: as an httpx.MockTransport for adapter contract
tests, and behind a real local HTTP server (`serve()`) for the daemon's end-to-end test, selected
by `base_url`. Parcels are described once (`Parcel`) and rendered into each provider's JSON.
Scripted failures (`fail_next`) let a test make a provider throttle, crash, hang or talk garbage.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

SEVENTEEN_KEY = "seventeen-test-key"
USPS_ID, USPS_SECRET = "usps-client", "usps-secret"
OKAPI_KEY = "okapi-test-key"


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


@dataclass
class FakeCarriers:
    parcels: dict[str, Parcel] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    failures: list[Callable[[httpx.Request], httpx.Response | None]] = field(default_factory=list)
    tokens_issued: int = 0
    valid_tokens: set[str] = field(default_factory=set)
    usps_knows_s10: bool = True
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

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
            failure = self.failures.pop(0) if self.failures else None
        if failure is not None:
            response = failure(request)
            if response is not None:
                return response
        path = request.url.path
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
        if request.url.path.endswith("/register"):
            accepted = [{"origin": 1, "number": i["number"], "carrier": 3011} for i in items if i["number"] in self.parcels]
            rejected = [{"number": i["number"], "error": {"code": -18019903, "message": "Carrier cannot be detected."}}
                        for i in items if i["number"] not in self.parcels]
            return httpx.Response(200, json={"code": 0, "data": {"accepted": accepted, "rejected": rejected}})
        accepted = [seventeen_item(self.parcels[i["number"]]) for i in items if i["number"] in self.parcels]
        rejected = [{"number": i["number"], "error": {"code": -18019902, "message": "does not register"}}
                    for i in items if i["number"] not in self.parcels]
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

    def serve(self) -> LocalServer:
        return LocalServer(self)


class LocalServer:
    """The fakes on a real loopback port: `url` is the base every provider's base_url points at."""

    def __init__(self, fakes: FakeCarriers) -> None:
        fakes_ref = fakes

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
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

            do_GET = do_POST = _any

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


def seventeen_item(p: Parcel) -> dict[str, Any]:
    """A /gettrackinfo accepted[] item shaped like the documented v2.2 example."""
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
                             "latest_sync_time": "2026-07-10T21:30:00Z", "events_hash": 222, "events": last_events})
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
