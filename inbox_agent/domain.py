"""The vocabularies shared by every stage: intents, sender roles, case states, outbox states."""

from __future__ import annotations

from enum import StrEnum


class Intent(StrEnum):
    """What a message asks or tells, from the sender's newest text (corpus policy)."""

    DELIVERED_NOT_RECEIVED = "delivered_not_received"
    WHERE_IS_MY_ORDER = "where_is_my_order"
    RECEIVED = "received"
    LAST_MILE_TRACKING = "last_mile_tracking"
    SUPPLIER_REFUND = "supplier_refund"
    SUPPLIER_RESHIP = "supplier_reship"
    SUPPLIER_INFO_REQUEST = "supplier_info_request"
    SUPPLIER_DECLINED = "supplier_declined"
    AUTO_REPLY = "auto_reply"
    OTHER = "other"


class Role(StrEnum):
    """Who sent a message, decided by the From address alone."""

    CUSTOMER = "customer"
    SUPPLIER = "supplier"
    DISTRIBUTOR = "distributor"
    AUTOMATED = "automated"
    UNKNOWN = "unknown"


CUSTOMER_INTENTS = frozenset({Intent.DELIVERED_NOT_RECEIVED, Intent.WHERE_IS_MY_ORDER, Intent.RECEIVED})
SUPPLIER_INTENTS = frozenset(
    {
        Intent.SUPPLIER_REFUND,
        Intent.SUPPLIER_RESHIP,
        Intent.SUPPLIER_INFO_REQUEST,
        Intent.SUPPLIER_DECLINED,
    }
)


class OutboxStatus(StrEnum):
    """Life of an intent: a reply goes PENDING -> DRAFTED -> APPROVED -> SENDING -> SENT; a track
    lookup goes PENDING -> DONE."""

    PENDING = "PENDING"
    DRAFTED = "DRAFTED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    SENDING = "SENDING"
    SENT = "SENT"
    UNCERTAIN = "UNCERTAIN"
    FAILED = "FAILED"
    DONE = "DONE"


class WorkStatus(StrEnum):
    """Life of a claimable work row (inbound message, event, track intent)."""

    PENDING = "PENDING"
    DONE = "DONE"
    SHUNTED = "SHUNTED"
