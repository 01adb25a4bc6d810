"""The daemon against local fake 17TRACK and USPS servers, selected by `base_url`.

Real HTTP on loopback; only the carriers are fake, with their documented JSON. The complaint
carries a China Post number; 17TRACK reports the hand-over to USPS with the last-mile number;
USPS confirms it delivered; the draft in Review gives the customer USPS's link for that number.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from pathlib import Path

import pytest

from inbox_agent.app import Daemon
from inbox_agent.config import Config, DatabaseConfig, MaildirConfig, StoreConfig, TrackingConfig, TrackingProvider
from inbox_agent.mailbox.maildir import MaildirBackend
from inbox_agent.samples import sample_complaint
from inbox_agent.store.tables import Case, TrackingSnapshot
from inbox_agent.tracking.status import LastMile
from tests.support.carriers import SEVENTEEN_KEY, USPS_ID, USPS_SECRET, FakeCarriers, LocalServer, Parcel
from tests.support.wait import until

ORIGIN = "LV123456785CN"
IMPB = "9400111206206406260787"


@pytest.fixture
def carriers() -> Iterator[tuple[FakeCarriers, LocalServer]]:
    fakes = FakeCarriers().add(Parcel(ORIGIN, destination="US", last_mile=IMPB))
    server = fakes.serve()
    yield fakes, server
    server.close()


async def test_daemon_tracks_across_the_handover_with_live_adapters(
        tmp_path: Path, carriers: tuple[FakeCarriers, LocalServer], monkeypatch: pytest.MonkeyPatch) -> None:
    fakes, server = carriers
    monkeypatch.setenv("T17_TOKEN", SEVENTEEN_KEY)
    monkeypatch.setenv("USPS_ID", USPS_ID)
    monkeypatch.setenv("USPS_SECRET", USPS_SECRET)
    config = Config(
        store=StoreConfig(support_address="support@store.example"),
        database=DatabaseConfig(url=f"sqlite:///{tmp_path / 'db.sqlite'}"),
        maildir=MaildirConfig(path=str(tmp_path / "mail"), poll_seconds=0.05),
        tracking=TrackingConfig(
            seventeen_track=TrackingProvider(api_key_env="T17_TOKEN", base_url=f"{server.url}/track/v2.2"),
            usps=TrackingProvider(client_id_env="USPS_ID", client_secret_env="USPS_SECRET", base_url=server.url),
        ),
    )
    daemon = Daemon(config)
    box = daemon.mailbox
    assert isinstance(box, MaildirBackend)
    assert not daemon.rt.tracker.sample
    await daemon.start()
    try:
        box.append("INBOX", sample_complaint("support@store.example", number=ORIGIN))
        box.notify()
        drafts = await until(lambda: box.all_messages("Review"), what="a draft in Review")
    finally:
        await daemon.stop()
    draft = email.message_from_bytes(drafts[0].raw, policy=email.policy.default)
    text = draft.get_body(preferencelist=("plain",)).get_content()
    assert f"https://tools.usps.com/go/TrackConfirmAction?tLabels={IMPB}" in text
    assert "sample" not in text.lower()
    assert [r.url.path for r in fakes.requests] == ["/track/v2.2/register", "/track/v2.2/gettrackinfo",
                                                    "/oauth2/v3/token", f"/tracking/v3/tracking/{IMPB}"]
    with daemon.db.transaction() as s:
        case = s.get(Case, 1)
        assert case is not None
        view = case.facts.tracking[ORIGIN]
        assert view.last_mile == LastMile(carrier="usps", number=IMPB) and view.last_mile_status == "delivered"
        assert {r.provider for r in s.query(TrackingSnapshot)} == {"seventeen_track", "usps"}
