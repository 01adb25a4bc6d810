"""What the store last said to a party in a case: the context a reply is read in.

A customer answering the post-office kit mostly says "found it" or "still nothing"; a supplier
answering our request for a refund mostly refunds, reships or asks for proof. The intent reader
takes this context as a feature next to the text (extract/classifier.py). It names our own last
reply to the sender's party (its template), never anything the sender wrote: the daemon finds it
in its own outbox (stages/process.py), training texts carry it as their "state" field, and a
message read without a case (`inbox-agent parse`) has none.
"""

from __future__ import annotations

from enum import StrEnum


class ReplyContext(StrEnum):
    """Our last reply to the sender's party in the case, as the reader knows it."""

    KIT_SENT = "kit_sent"  # the post office's contact details and tracking (or the follow-up on them)
    ACK_SENT = "ack_sent"  # "we are looking into it"
    NOT_SHIPPED_SENT = "not_shipped_sent"  # the order has not shipped yet
    ASKED_ORDER_NUMBER = "asked_order_number"  # which order, its number again, or its tracking number
    SUPPLIER_ASKED = "supplier_asked"  # a request (or reminder) to the supplier
    DISTRIBUTOR_ASKED = "distributor_asked"  # a request (or reminder) for the last-mile number
    REFUND_ANNOUNCED = "refund_announced"  # the customer was told of the refund


# The templates (templates/*.j2, named by rules/playbook.yaml) each context stands for; a template
# not named here (a tracking status, a reship notice, a thank-you) gives no context.
CONTEXT_OF_TEMPLATE: dict[str, ReplyContext] = {
    "customer_post_office_kit": ReplyContext.KIT_SENT,
    "customer_followup": ReplyContext.KIT_SENT,
    "customer_ack": ReplyContext.ACK_SENT,
    "customer_not_shipped": ReplyContext.NOT_SHIPPED_SENT,
    "customer_ask_order_number": ReplyContext.ASKED_ORDER_NUMBER,
    "customer_ask_tracking_number": ReplyContext.ASKED_ORDER_NUMBER,
    "customer_which_order": ReplyContext.ASKED_ORDER_NUMBER,
    "customer_order_not_found": ReplyContext.ASKED_ORDER_NUMBER,
    "supplier_dnr_request": ReplyContext.SUPPLIER_ASKED,
    "supplier_refund_request": ReplyContext.SUPPLIER_ASKED,
    "supplier_reminder": ReplyContext.SUPPLIER_ASKED,
    "distributor_last_mile_request": ReplyContext.DISTRIBUTOR_ASKED,
    "distributor_reminder": ReplyContext.DISTRIBUTOR_ASKED,
    "customer_refund_confirmed": ReplyContext.REFUND_ANNOUNCED,
}


def context_after(template: str | None) -> ReplyContext | None:
    """The context our reply written from `template` leaves (None: no reply, or one without)."""
    return CONTEXT_OF_TEMPLATE.get(template) if template else None
