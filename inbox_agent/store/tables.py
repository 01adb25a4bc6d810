"""SQLAlchemy tables. Every cross-stage hand-off is a row here (see docs/architecture.md).

Uniqueness carries the idempotency promises: an inbound message is unique on
(folder, uidvalidity, uid) and on its message key; an outgoing message is unique on its
idempotency key; a case message on its Message-ID. Every lookup a stage makes has an index, so
no cost grows with the size of a table (a case's messages, a queue's pending rows, due timers).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from inbox_agent.store.payloads import (
    CaseFacts,
    EventPayload,
    IntentPayload,
    JsonModel,
    JsonModelList,
    Parcel,
    Summary,
)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON, datetime: DateTime(timezone=True)}


class MailboxCursor(Base):
    __tablename__ = "mailbox_cursor"
    folder: Mapped[str] = mapped_column(String(200), primary_key=True)
    uidvalidity: Mapped[int] = mapped_column(Integer)
    last_uid: Mapped[int] = mapped_column(Integer, default=0)


class MailboxStart(Base):
    """Where the daemon started reading a folder: mail before `position` (an IMAP UID or a Maildir
    delivery time) was there before us and is left alone, unless `since` asked for a backfill."""

    __tablename__ = "mailbox_start"
    folder: Mapped[str] = mapped_column(String(200), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger)
    older: Mapped[int] = mapped_column(Integer, default=0)
    since: Mapped[str | None] = mapped_column(String(10))
    started_at: Mapped[datetime]


class SecretKey(Base):
    """Random keys the daemon made for itself (e.g. `draft_proof`, which signs our drafts)."""

    __tablename__ = "secret_key"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)


class InboundMessage(Base):
    __tablename__ = "inbound_message"
    __table_args__ = (UniqueConstraint("folder", "uidvalidity", "uid"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    folder: Mapped[str] = mapped_column(String(200))
    uidvalidity: Mapped[int] = mapped_column(Integer)
    uid: Mapped[str] = mapped_column(String(200))
    message_key: Mapped[str] = mapped_column(String(1000), unique=True)
    message_id: Mapped[str | None] = mapped_column(String(1000))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    summary: Mapped[Summary] = mapped_column(JsonModel(Summary), default=Summary())
    status: Mapped[str] = mapped_column(String(20), index=True)
    error: Mapped[str | None] = mapped_column(Text)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    received_at: Mapped[datetime]


class Case(Base):
    """`version` guards concurrent updates: every UPDATE checks and bumps it, so two workers that
    change one case at once cannot overwrite each other (the later one fails and is retried)."""

    __tablename__ = "case"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}
    customer: Mapped[str] = mapped_column(String(320), index=True)
    language: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(Text, default="")
    order_numbers: Mapped[list[str]] = mapped_column(default=list)
    tracking_numbers: Mapped[list[Parcel]] = mapped_column(JsonModelList(Parcel), default=list)
    facts: Mapped[CaseFacts] = mapped_column(JsonModel(CaseFacts), default=CaseFacts())
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(40))


class CaseMessage(Base):
    __tablename__ = "case_message"
    message_id: Mapped[str] = mapped_column(String(1000), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    direction: Mapped[str] = mapped_column(String(3))
    party: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime]


class CaseNumber(Base):
    """Which customer's case a tracking number belongs to: its details go to that customer only."""

    __tablename__ = "case_number"
    number: Mapped[str] = mapped_column(String(60), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), primary_key=True)
    customer: Mapped[str] = mapped_column(String(320), index=True)


class Claimed:
    """Columns of a row some stage's runner works through (stages/queue.py): how often it failed
    and why, since when a server has been away for it, and the claim that lets several workers
    share the queue (stages/claims.py)."""

    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    failing_since: Mapped[datetime | None]
    claimed_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(100))


class Queued(Claimed):
    """A hand-off row: its status besides the runner's columns; each table types its own `payload`
    (store/payloads.py)."""

    status: Mapped[str] = mapped_column(String(20), index=True)
    created_at: Mapped[datetime]


class Event(Queued, Base):
    __tablename__ = "event"
    __table_args__ = (Index("ix_event_queue", "status", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    payload: Mapped[EventPayload] = mapped_column(JsonModel(EventPayload), default=EventPayload())


class Intent(Queued, Base):
    """The transactional outbox, built at decide time: `track` lookups, `reply` messages, and
    `note`s for people (a message copied to, or a case summary left in, "Needs attention")."""

    __tablename__ = "intent"
    __table_args__ = (Index("ix_intent_queue", "kind", "status", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    payload: Mapped[IntentPayload] = mapped_column(JsonModel(IntentPayload), default=IntentPayload())
    idempotency_key: Mapped[str] = mapped_column(String(300), unique=True)
    template: Mapped[str | None] = mapped_column(String(100))
    mode: Mapped[str] = mapped_column(String(10), default="draft")
    message_id: Mapped[str | None] = mapped_column(String(500), unique=True)
    recipients: Mapped[list[str]] = mapped_column(default=list)
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    sent_raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime]


class TrackingSnapshot(Base):
    __tablename__ = "tracking_snapshot"
    __table_args__ = (Index("ix_tracking_snapshot_lookup", "provider", "number", "fetched_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(40))
    number: Mapped[str] = mapped_column(String(60), index=True)
    status: Mapped[str] = mapped_column(String(30))
    view: Mapped[dict[str, Any]] = mapped_column(default=dict)
    fetched_at: Mapped[datetime]


class Timer(Claimed, Base):
    """A case's timer: due at `due_at`, fired once by the timers runner (or set aside)."""

    __tablename__ = "timer"
    __table_args__ = (UniqueConstraint("case_id", "name"), Index("ix_timer_due", "fired", "due_at"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    name: Mapped[str] = mapped_column(String(60))
    due_at: Mapped[datetime]
    fired: Mapped[bool] = mapped_column(default=False)


class DecisionLog(Base):
    __tablename__ = "decision_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id"), index=True)
    rule: Mapped[str] = mapped_column(String(100))
    from_state: Mapped[str] = mapped_column(String(40))
    to_state: Mapped[str] = mapped_column(String(40))
    why: Mapped[list[str]] = mapped_column(default=list)
    at: Mapped[datetime]


class Budget(Base):
    """How much of a daily budget one key (a sender's lookups, the store's paid lookups, a case's
    automatic messages) has used on one UTC day (security/budget.py)."""

    __tablename__ = "budget"
    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)


class RateBudget(Base):
    """One provider key's call rate, shared by every worker (tracking/rate_budget.py): the time,
    in Unix seconds, at which the bucket is next empty. `key` is a hash of the provider and its
    credentials, never the credentials themselves."""

    __tablename__ = "rate_budget"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    full_until: Mapped[float]
