"""The embedded default (`make run` without a config) answers the order-only sample complaint
(`send-sample --order-only`) with the post-office kit, offline: the sample orders file gives the
tracking number, the built-in sample tracking data the rest."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

from inbox_agent.app import Daemon
from inbox_agent.config import DatabaseConfig, MaildirConfig, load_config
from inbox_agent.mailbox.maildir import MaildirBackend
from inbox_agent.samples import sample_complaint
from inbox_agent.store.tables import Case
from tests.support.wait import until

SUPPORT = "support@store.example"


async def test_embedded_default_order_only_sample_reaches_the_kit(tmp_path: Path) -> None:
    embedded = load_config(None)
    assert embedded.orders is not None and embedded.orders.csv is not None
    config = embedded.model_copy(update={"database": DatabaseConfig(url=f"sqlite:///{tmp_path / 'db.sqlite'}"),
                                         "maildir": MaildirConfig(path=str(tmp_path / "mail"), poll_seconds=0.05)})
    daemon = Daemon(config)
    box = daemon.mailbox
    assert isinstance(box, MaildirBackend)
    await daemon.start()
    try:
        box.append("INBOX", sample_complaint(SUPPORT, order_only=True))
        drafts = await until(lambda: box.all_messages("Review"), what="the kit in Review")
        with daemon.db.transaction() as s:
            case = s.get(Case, 1)
            assert case is not None
            numbers, state = [t.number for t in case.tracking_numbers], case.state
    finally:
        await daemon.stop()
    assert b"LP00612849305172" not in sample_complaint(SUPPORT, order_only=True)
    assert numbers == ["LP00612849305172"] and state == "kit_pending"
    kit = email.message_from_bytes(drafts[0].raw, policy=email.policy.default)
    assert [p.get_content_type() for p in kit.walk()][-1] == "image/png"
