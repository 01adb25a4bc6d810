"""One tracking service is enough: with only 17TRACK, only AfterShip or only TrackingMore configured,
the daemon on real parts (Dovecot, aiosmtpd, SQLite, the fake service on a loopback port) sends the
post-office kit when the service knows the destination post's number, and asks the distributor
when it does not.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from inbox_agent.config import TrackingConfig
from inbox_agent.timeline import case_timeline
from tests.support.carriers import AFTERSHIP_KEY, SEVENTEEN_KEY, TRACKINGMORE_KEY, FakeCarriers, LocalServer, Parcel
from tests.support.scenario import DISTRIBUTOR, Scenario, db_path, text_of

CUSTOMER = "Jamie Customer <jamie@example.org>"
JAMIE = "jamie@example.org"
ORIGIN = "LV123456785CN"
IMPB = "9400111206206406260787"
COMPLAINT = (f"Hello, my order #1043 shows as delivered, tracking number {ORIGIN}, but I never received it. "
             "Nothing in my mailbox.")
SERVICES = {
    "seventeen_track": ("/track/v2.2", "T17_TOKEN", SEVENTEEN_KEY),
    "aftership": ("/aftership/tracking/2025-07", "AFTERSHIP_KEY", AFTERSHIP_KEY),
    "trackingmore": ("/v4", "TRACKINGMORE_KEY", TRACKINGMORE_KEY),
}
# What each service knows: 17TRACK and AfterShip name the USPS number; TrackingMore follows the S10
# number itself at USPS (destination_info).
KNOWN_LAST_MILE = {"seventeen_track": IMPB, "aftership": IMPB, "trackingmore": ORIGIN}


@pytest.fixture
def fakes() -> FakeCarriers:
    return FakeCarriers()


@pytest.fixture
def carriers(fakes: FakeCarriers) -> Iterator[LocalServer]:
    server = fakes.serve()
    yield server
    server.close()


@pytest.fixture(params=list(SERVICES))
async def scenario(request: pytest.FixtureRequest, dovecot, mailuser, smtp_server,  # type: ignore[no-untyped-def]
                   carriers: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Scenario]:
    name = str(request.param)
    path, variable, key = SERVICES[name]
    monkeypatch.setenv("TEST_IMAP_PASSWORD", "secret")
    monkeypatch.setenv(variable, key)
    scene = Scenario(dovecot, mailuser, smtp_server, carriers, db_path(tmp_path))
    scene.tracking = TrackingConfig(**{name: scene.fast(path, api_key_env=variable)})
    await scene.start()
    yield scene
    await scene.stop()


def _service(scenario: Scenario) -> str:
    assert scenario.tracking is not None
    (name,) = scenario.tracking.providers()
    return name


async def test_one_service_carries_the_case_to_the_kit(scenario: Scenario, fakes: FakeCarriers) -> None:
    service = _service(scenario)
    last_mile = KNOWN_LAST_MILE[service]
    fakes.add(Parcel(ORIGIN, destination="US", last_mile=None if last_mile == ORIGIN else last_mile))
    scenario.deliver(CUSTOMER, "Order #1043 delivered but not received", COMPLAINT)
    kit = await scenario.wait_sent(JAMIE, 1, "the post-office kit")
    text = text_of(kit)
    assert f"The number USPS knows it by is {last_mile}." in text
    assert f"Tracking at USPS: https://tools.usps.com/go/TrackConfirmAction?tLabels={last_mile}" in text
    assert "Phone: 1-800-ASK-USPS (1-800-275-8777)" in text and "sample" not in text.lower()
    await scenario.wait_state(1, "awaiting_customer")
    assert scenario.sent(DISTRIBUTOR) == []
    assert scenario.daemon is not None
    found = case_timeline(scenario.daemon.db, 1)
    assert found is not None
    assert found["tracking"][ORIGIN]["legs"] == [
        f"{service} answered for {ORIGIN}: delivered",
        f"{service} answered for usps number {last_mile}: delivered (usps's own events, carried in {service}'s "
        "answer for the origin number)"]
    assert all(r.url.path.startswith(SERVICES[service][0]) for r in fakes.requests)


async def test_no_last_mile_number_means_asking_the_distributor(scenario: Scenario, fakes: FakeCarriers) -> None:
    fakes.add(Parcel(ORIGIN, destination="US", last_mile=IMPB, hidden_last_mile=True))
    scenario.deliver(CUSTOMER, "Order #1043 delivered but not received", COMPLAINT)
    request = await scenario.wait_sent(DISTRIBUTOR, 1, "the request to the distributor")
    assert "please provide us the post office tracking number" in text_of(request).lower()
    assert ORIGIN in text_of(request)
    case = await scenario.wait_state(1, "awaiting_distributor")
    assert case.facts.tracking[ORIGIN].last_mile is None
    assert all("knows it by" not in text_of(m) for m in scenario.sent(JAMIE))
