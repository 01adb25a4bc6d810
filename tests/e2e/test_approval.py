"""Approval that survives the agents' mail clients, and drafts that carry proof (real Dovecot and
aiosmtpd): a Gmail-style edit (new Message-ID, our headers gone, HTML added) and a Thunderbird
re-save with client headers and a Bcc are each sent once, with the edit, without the client's
headers, the Bcc delivered and hidden; a forged draft in Approved is never sent."""

from __future__ import annotations

import email
import email.policy
import email.utils
import re
from email.message import EmailMessage
from pathlib import Path

from imapclient import IMAPClient
from sqlalchemy import select

from inbox_agent.app import Daemon
from inbox_agent.config import Config, DatabaseConfig, ImapConfig, SmtpConfig, StoreConfig
from inbox_agent.samples import sample_complaint
from inbox_agent.store.tables import Intent, Timer
from tests.support.wait import until

SUPPORT = "support@store.example"
GMAIL_USER, THUNDERBIRD_USER = "gmail.user@example.org", "tb.user@example.org"
BOSS = "boss@store.example"
CLIENT_HEADERS = {
    "Fcc": "imap://support%40store.example@imap.store.example/Sent",
    "X-Mozilla-Draft-Info": "internal/draft; vcard=0; receipt=0; DSN=0; uuencode=0; attachmentreminder=0",
    "X-Identity-Key": "id1", "X-Account-Key": "account1", "User-Agent": "Mozilla Thunderbird",
    "X-Apple-Base-Url": "x-msg://12/", "X-Apple-Mail-Remote-Attachments": "NO",
    "X-MS-Has-Attach": "", "X-MS-TNEF-Correlator": "", "X-Mutt-Fcc": "=Sent", "X-Mutt-References": "x",
}


def _config(dovecot, user: str, tmp: Path, smtp_port: int) -> Config:  # type: ignore[no-untyped-def]
    return Config(store=StoreConfig(support_address=SUPPORT),
                  database=DatabaseConfig(url=f"sqlite:///{tmp / 'db.sqlite'}"),
                  imap=ImapConfig(host="127.0.0.1", port=dovecot.port, tls="none", username=user,
                                  password_env="TEST_IMAP_PASSWORD", poll_seconds=2),
                  smtp=SmtpConfig(host="127.0.0.1", port=smtp_port, tls="none"))


def _agent(dovecot, user: str) -> IMAPClient:  # type: ignore[no-untyped-def]
    c = IMAPClient("127.0.0.1", port=dovecot.port, ssl=False, timeout=10)
    c.login(user, "secret")
    return c


def _folder(agent: IMAPClient, folder: str) -> dict[int, EmailMessage]:
    agent.select_folder(folder)
    uids = agent.search("ALL")
    data = agent.fetch(uids, ["BODY.PEEK[]"]) if uids else {}
    return {u: email.message_from_bytes(d[b"BODY[]"], policy=email.policy.default)  # type: ignore[misc]
            for u, d in data.items() if d.get(b"BODY[]")}  # (a message expunged meanwhile has none)


def _exactly(agent: IMAPClient, folder: str, count: int) -> dict[int, EmailMessage] | None:
    found = _folder(agent, folder)
    return found if len(found) == count else None


def _text(msg: EmailMessage, kind: str = "plain") -> str:
    body = msg.get_body(preferencelist=(kind,))
    assert body is not None
    return str(body.get_content())


def gmail_edit(draft: EmailMessage) -> bytes:
    """What Gmail web saves after an edit: a new Message-ID, no X- headers, text and HTML."""
    edited = _text(draft).replace("Please let us know", "Gmail edit: please let us know")
    msg = EmailMessage(policy=email.policy.SMTP)
    for name in ("From", "To", "Subject", "In-Reply-To", "References"):
        msg[name] = str(draft[name])
    msg["Date"] = email.utils.formatdate()
    msg["Message-ID"] = email.utils.make_msgid(domain="mail.gmail.com")
    msg.set_content(edited)
    paragraphs = "".join(f"<div dir=\"ltr\">{line}</div>" for line in edited.splitlines())
    msg.add_alternative(f"<div dir=\"ltr\">{paragraphs}</div>", subtype="html")
    return msg.as_bytes()


def thunderbird_resave(draft: EmailMessage) -> bytes:
    """Thunderbird's re-save of the draft with a Bcc added: its own headers, the body edited."""
    msg = EmailMessage(policy=email.policy.SMTP)
    for name, value in draft.items():
        if name.lower() not in ("content-type", "content-transfer-encoding", "mime-version"):
            msg[name] = str(value)
    for name, value in CLIENT_HEADERS.items():
        msg[name] = value
    msg["Bcc"] = BOSS
    msg.set_content(_text(draft).replace("Please let us know", "Thunderbird edit: please let us know"))
    return msg.as_bytes()


async def test_client_edits_are_sent_once_with_the_edit_and_without_client_headers(
        dovecot, mailuser, smtp_server, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TEST_IMAP_PASSWORD", "secret")
    controller, recorder = smtp_server
    daemon = Daemon(_config(dovecot, mailuser, tmp_path, controller.port))
    await daemon.start()
    agent = _agent(dovecot, mailuser)
    try:
        dovecot.deliver(mailuser, sample_complaint(SUPPORT, sender=GMAIL_USER))
        dovecot.deliver(mailuser, sample_complaint(SUPPORT, sender=THUNDERBIRD_USER, number="YT2506321874502931"))
        drafts = await until(lambda: _exactly(agent, "Review", 2), what="two drafts")
        by_customer = {str(d["To"]): (uid, d) for uid, d in drafts.items()}
        gmail_uid, gmail_draft = by_customer[GMAIL_USER]
        tb_uid, tb_draft = by_customer[THUNDERBIRD_USER]
        assert re.search(r"Ref\. IA-\d+-[0-9a-f]{24}", _text(gmail_draft))
        agent.append("Approved", gmail_edit(gmail_draft))
        agent.append("Approved", thunderbird_resave(tb_draft))
        agent.select_folder("Review")
        agent.delete_messages([gmail_uid, tb_uid])
        agent.expunge()
        await until(lambda: len(recorder.messages) >= 2, what="both replies sent")
        await until(lambda: len(_folder(agent, "Sent")) == 2, what="both copies in Sent")
        await until(lambda: not _folder(agent, "Approved"), what="Approved emptied")
        assert _folder(agent, "Needs attention") == {}
    finally:
        agent.logout()
        await daemon.stop()
    assert len(recorder.messages) == 2
    sent = {r.recipients[0]: (r, email.message_from_bytes(r.data, policy=email.policy.default))
            for r in recorder.messages}
    gmail_envelope, gmail_sent = sent[GMAIL_USER]
    tb_envelope, tb_sent = sent[THUNDERBIRD_USER]
    assert gmail_envelope.recipients == [GMAIL_USER]
    assert "Gmail edit: please let us know" in _text(gmail_sent)  # type: ignore[arg-type]
    assert "Gmail edit: please let us know" in _text(gmail_sent, "html")  # type: ignore[arg-type]
    assert gmail_sent["Message-ID"] == gmail_draft["Message-ID"], "our Message-ID, so threading holds"
    assert tb_envelope.recipients == [THUNDERBIRD_USER, BOSS], "the Bcc is delivered"
    assert "Thunderbird edit: please let us know" in _text(tb_sent)  # type: ignore[arg-type]
    for raw in (gmail_envelope.data, tb_envelope.data):
        headers = {k.lower() for k in email.message_from_bytes(raw)}
        assert headers <= {"from", "to", "subject", "date", "message-id", "in-reply-to", "references",
                           "auto-submitted", "mime-version", "content-type", "content-transfer-encoding"}, headers
        assert b"IA-" not in raw and BOSS.encode() not in raw and b"imap://" not in raw


async def test_a_forged_draft_in_approved_is_never_sent(dovecot, mailuser, smtp_server, tmp_path: Path,
                                                       monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TEST_IMAP_PASSWORD", "secret")
    controller, recorder = smtp_server
    daemon = Daemon(_config(dovecot, mailuser, tmp_path, controller.port))
    await daemon.start()
    agent = _agent(dovecot, mailuser)
    try:
        dovecot.deliver(mailuser, sample_complaint(SUPPORT))
        (draft_uid, draft), = (await until(lambda: _folder(agent, "Review"), what="the draft")).items()
        real_token = re.search(r"IA-(\d+)-[0-9a-f]{24}", _text(draft))
        assert real_token is not None
        for forged_header in (real_token.group(1), f"IA-{real_token.group(1)}-{'0' * 24}"):
            forged = EmailMessage(policy=email.policy.SMTP)
            forged["From"] = "Eve <eve@evil.example>"
            forged["To"] = "victim@people.example"
            forged["Subject"] = str(draft["Subject"])
            forged["In-Reply-To"] = str(draft["In-Reply-To"])
            forged["Message-ID"] = email.utils.make_msgid(domain="evil.example")
            forged["X-Inbox-Agent-Intent"] = forged_header
            forged.set_content(f"Pay here: https://evil.example/pay\n\nRef. IA-{real_token.group(1)}-{'f' * 24}\n")
            agent.append("Approved", forged.as_bytes())
        notes = await until(lambda: _exactly(agent, "Needs attention", 2), what="both forgeries set aside")
        await until(lambda: not _folder(agent, "Approved"), what="Approved emptied")
        assert set(_folder(agent, "Review")) == {draft_uid}, "the real draft is untouched"
        with daemon.db.transaction() as s:
            assert [i.status for i in s.scalars(select(Intent).where(Intent.kind == "reply"))] == ["DRAFTED"]
            assert [t.name for t in s.scalars(select(Timer).where(Timer.case_id == 1))].count("approval_overdue") == 1
        agent.move([draft_uid], "Approved")
        await until(lambda: recorder.messages, what="the real draft sent")
        with daemon.db.transaction() as s:
            assert not list(s.scalars(select(Timer).where(Timer.name == "approval_overdue"))), "approval stops it"
    finally:
        agent.logout()
        await daemon.stop()
    for note in notes.values():
        assert "not ours (forged or altered)" in _text(note)
    assert [r.recipients for r in recorder.messages] == [["jamie.customer@example.org"]]
    assert b"evil.example" not in recorder.messages[0].data


async def test_a_reply_to_our_draft_with_its_case_tag_is_matched_without_the_proof(tmp_path: Path) -> None:
    """A client that drops our header, makes a new Message-ID and loses the Ref. line still names
    our draft in References: with the case tag in the subject, that is ours. The customer's own
    Message-ID in References (which a stranger could know) is not enough."""
    from inbox_agent.config import MaildirConfig

    config = Config(store=StoreConfig(support_address=SUPPORT),
                    database=DatabaseConfig(url=f"sqlite:///{tmp_path / 'db.sqlite'}"),
                    maildir=MaildirConfig(path=str(tmp_path / "mail"), poll_seconds=0.05))
    daemon = Daemon(config)
    box = daemon.mailbox
    await daemon.start()
    try:
        box.append("INBOX", sample_complaint(SUPPORT))
        (stored,) = await until(lambda: box.all_messages("Review"), what="the draft")
        draft = email.message_from_bytes(stored.raw, policy=email.policy.default)
        assert isinstance(draft, EmailMessage)
        for references, text in ((str(draft["In-Reply-To"]), "only the customer's id"),
                                 (f"{draft['In-Reply-To']} {draft['Message-ID']}", "our draft's id")):
            msg = EmailMessage(policy=email.policy.SMTP)
            for name in ("From", "To", "Subject"):
                msg[name] = str(draft[name])
            msg["Message-ID"] = email.utils.make_msgid(domain="client.example")
            msg["References"] = references
            msg.set_content(f"Edited by hand, references {text}.\n")
            box.append("Approved", msg.as_bytes())
            if text == "only the customer's id":
                await until(lambda: box.all_messages("Needs attention"), what="the unmatched one set aside")
        await until(lambda: box.all_messages("Sent"), what="the matched one sent")
    finally:
        await daemon.stop()
    (sent,) = box.all_messages("Sent")
    assert b"references our draft's id" in sent.raw and draft["Message-ID"].encode() in sent.raw
    assert len(box.all_messages("Needs attention")) == 1
