"""A Maildir's new mail in delivery order, also within one second (its keys' numbers as numbers)."""

from __future__ import annotations

import os
from pathlib import Path

from inbox_agent.mailbox.maildir import MaildirBackend

SECOND = 1_796_058_820


def test_mail_of_one_second_comes_in_the_order_its_keys_number_it(tmp_path: Path) -> None:
    box = MaildirBackend(tmp_path / "mail")
    new = tmp_path / "mail" / "new"
    keys = [f"{SECOND}.M{usec}P27818Q{n}.host" for n, usec in enumerate([94007, 96142, 100977, 1000001], 1)]
    for key in reversed(keys):
        path = new / key
        path.write_bytes(b"From: a@example.org\r\nSubject: x\r\n\r\nhello\r\n")
        os.utime(path, (SECOND + 0.5, SECOND + 0.5))
    assert box.unseen_uids("INBOX", set(), SECOND) == keys
