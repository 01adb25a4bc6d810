"""The case's context for the intent reader: our own last approved or sent reply to the sender's
party, found in our outbox (never in what the sender wrote), given to the model as a feature and
carried by training texts as their "state"."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from inbox_agent.config import Config, PartiesConfig, ReadingConfig
from inbox_agent.domain import Intent, OutboxStatus, Role
from inbox_agent.errors import ConfigError
from inbox_agent.extract.classifier import Clues
from inbox_agent.extract.context import CONTEXT_OF_TEMPLATE, ReplyContext
from inbox_agent.extract.intent import intent_model
from inbox_agent.extract.model_cache import read_examples
from inbox_agent.extract.training import load_examples
from inbox_agent.reading import read_bytes
from inbox_agent.render.compose import party_of
from inbox_agent.stages.reply_context import in_context, reply_context
from inbox_agent.store.database import Database
from inbox_agent.store.payloads import CaseFacts, IntentPayload, Summary
from inbox_agent.store.tables import Case
from inbox_agent.store.tables import Intent as Outbox

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 7, 12, 9, 0, tzinfo=UTC)
CUSTOMER = "robin@example.org"
STILL_NOTHING = "Still nothing here, I looked everywhere."
CONTEXT_NOTE = "model: read as an answer to our last message ({})"
SHORT_ANSWER = "Toujours pas."  # "still not"
KIT_SUBJECT = "Re: Re: Votre colis : comment le faire retrouver par USPS [#C-1-0a1b2c3d]"


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    database.create()
    return database


def _case(db: Database) -> int:
    with db.transaction() as s:
        case = Case(state="awaiting_customer", customer=CUSTOMER, language="en", order_numbers=["1043"],
                    tracking_numbers=[], facts=CaseFacts(), opened_at=NOW)
        s.add(case)
        s.flush()
        return case.id


def _reply(db: Database, case_id: int, template: str, status: OutboxStatus) -> None:
    with db.transaction() as s:
        n = s.query(Outbox).count()
        s.add(Outbox(kind="reply", case_id=case_id, idempotency_key=f"reply:{n}:{template}", template=template,
                     status=status, recipients=[CUSTOMER], payload=IntentPayload(party=party_of(template)),
                     created_at=NOW, updated_at=NOW))


def _context(db: Database, case_id: int, party: str) -> ReplyContext | None:
    with db.transaction() as s:
        return reply_context(s, case_id, party)


def test_the_context_is_our_latest_approved_or_sent_reply_to_the_party(db: Database) -> None:
    case_id, other_case = _case(db), _case(db)
    assert _context(db, case_id, "customer") is None
    _reply(db, case_id, "customer_ack", OutboxStatus.SENT)
    assert _context(db, case_id, "customer") is ReplyContext.ACK_SENT
    for status in (OutboxStatus.DRAFTED, OutboxStatus.REJECTED, OutboxStatus.FAILED, OutboxStatus.PENDING):
        _reply(db, case_id, "customer_post_office_kit", status)  # never went out: not a context
    assert _context(db, case_id, "customer") is ReplyContext.ACK_SENT
    _reply(db, case_id, "supplier_dnr_request", OutboxStatus.SENT)
    _reply(db, other_case, "customer_refund_confirmed", OutboxStatus.SENT)
    assert _context(db, case_id, "customer") is ReplyContext.ACK_SENT  # another party, another case
    assert _context(db, case_id, "supplier") is ReplyContext.SUPPLIER_ASKED
    assert _context(db, case_id, "distributor") is None
    _reply(db, case_id, "customer_post_office_kit", OutboxStatus.APPROVED)
    assert _context(db, case_id, "customer") is ReplyContext.KIT_SENT
    _reply(db, case_id, "customer_tracking_status", OutboxStatus.SENT)  # a reply that names no context
    assert _context(db, case_id, "customer") is None


def test_a_message_is_read_in_the_context_we_wrote_never_the_one_it_claims(db: Database) -> None:
    case_id = _case(db)
    _reply(db, case_id, "customer_ack", OutboxStatus.SENT)
    summary = Summary.model_validate({
        "from": CUSTOMER, "subject": "Re: Your post office contact details and tracking",
        "new_text": STILL_NOTHING, "sender_role": "customer", "intent": "other", "intent_confidence": 0.4,
        "intent_confident": False})
    reading = ReadingConfig()
    with db.transaction() as s:
        read = in_context(s, summary, case_id, reading)
        assert CONTEXT_NOTE.format("ack_sent") in read.intent_why
        assert not any("kit_sent" in w for w in read.intent_why)
        assert read.intent_guesses and read.intent_guesses[0] == (read.intent, read.intent_confidence)
        assert read.intent_confident is (read.intent_confidence >= reading.min_confidence)
        for untouched in (summary.model_copy(update={"taught": "other"}),
                          summary.model_copy(update={"automated": ["Auto-Submitted: auto-replied"]}),
                          summary.model_copy(update={"sender_role": "distributor"})):
            assert in_context(s, untouched, case_id, reading) == untouched


def test_a_message_read_alone_has_no_context() -> None:
    raw = (b"From: kim@example.org\r\nSubject: Re: Your post office contact details\r\n"
           b"Message-ID: <k@example.org>\r\n\r\n" + STILL_NOTHING.encode() + b"\r\n")
    _, extraction = read_bytes(raw, Config(parties=PartiesConfig()), explain=True)
    assert extraction is not None
    assert not any("read as an answer" in w for w in extraction.why["intent"])


def test_every_context_stands_for_templates_we_have() -> None:
    for template in CONTEXT_OF_TEMPLATE:
        assert (ROOT / "templates" / f"{template}.en.txt.j2").is_file(), template
    assert set(CONTEXT_OF_TEMPLATE.values()) == set(ReplyContext)


def test_training_texts_carry_their_state_to_the_trainer(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    line = {"subject": "Re: your parcel", "text": "still nothing", "intent": "delivered_not_received",
            "language": "en", "role": "customer", "group": "S-en-01"}
    path.write_text("\n".join(json.dumps(d) for d in (
        {**line, "state": "kit_sent"}, line, {**line, "state": "kit_sent"}, {**line, "state": "ack_sent"})))
    examples = load_examples([path])
    assert [e.state for e in examples] == [ReplyContext.KIT_SENT, None, ReplyContext.ACK_SENT]
    assert json.loads(examples[0].to_json())["state"] == "kit_sent" and "state" not in json.loads(examples[1].to_json())
    sent = [json.dumps(asdict(e)) for e in examples]
    assert read_examples(sent) == examples  # what the child process that trains reads back
    path.write_text(json.dumps({**line, "state": "parcel_eaten"}))
    with pytest.raises(ConfigError, match=r"s\.jsonl: line 1: not a training example"):
        load_examples([path])


def test_the_context_is_a_feature_and_stands_for_the_subject() -> None:
    model = intent_model(ReadingConfig())
    clues = Clues(Role.CUSTOMER, True, False, False, {}, {})
    after_kit = replace(clues, context=ReplyContext.KIT_SENT)
    alone = model.read(SHORT_ANSWER, KIT_SUBJECT, clues)
    in_context = model.read(SHORT_ANSWER, KIT_SUBJECT, after_kit)
    dnr = Intent.DELIVERED_NOT_RECEIVED
    assert in_context.probabilities[dnr] > alone.probabilities[dnr]
    # the subject of an answer to our reply is our own words: in a context it is not read
    assert model.read(SHORT_ANSWER, "Re: anything the sender likes", after_kit).probabilities == in_context.probabilities
    assert model.read(SHORT_ANSWER, "Re: anything the sender likes", clues).probabilities != alone.probabilities


@pytest.mark.parametrize("thanks", ["Thank you.", "Thanks!", "Merci.", "Danke!", "Grazie.", "Bedankt!", "Obrigado."])
def test_a_bare_thank_you_for_the_post_office_kit_is_no_confident_word_that_it_arrived(
        db: Database, thanks: str) -> None:
    """After the post-office kit a customer's "Thank you." thanks us for the kit; it does not say
    the parcel came. Read confidently as `received`, the playbook closes the case as solved
    (customer_received_it: every timer cancelled, "glad it arrived" sent) while the parcel is lost.
    A bare thanks is `other` by rule, before the model reads it in its context."""
    case_id = _case(db)
    _reply(db, case_id, "customer_post_office_kit", OutboxStatus.SENT)
    summary = Summary.model_validate({
        "from": CUSTOMER, "subject": "Re: Your post office contact details and tracking", "new_text": thanks,
        "sender_role": "customer", "intent": "received", "intent_confidence": 0.97, "intent_confident": True})
    with db.transaction() as s:
        read = in_context(s, summary, case_id, ReadingConfig())
    assert read.intent == "other" and "a bare thanks: it says nothing of the parcel" in read.intent_why
    assert not (read.intent == "received" and read.intent_confident), (read.intent, read.intent_confidence)
