"""order lookup: intent(order) -> the order on the case + event(order.looked_up).

The `lookup_order` action queues the numbers the message wrote (none: the sender's recent
orders are asked for). The event says what was found and whether the case now has a tracking
number (the order's parcels, or one the customer gave). The lookup runs outside any transaction; its result, the case's new
facts, DONE and the event are written in one transaction, so a crash repeats the lookup but
never records it twice. Privacy holds here, not only in the playbook: an order placed with
another address leaves nothing on the case but a note that someone asked. A source that cannot
answer is asked again with growing delays (`[retry.orders]`, through the shared queue loop of
stages/queue.py); after the last attempt the event says `unavailable` and a person takes over
(never a wrong answer to the customer).
"""

from __future__ import annotations

from datetime import datetime

from inbox_agent.domain import OutboxStatus, WorkStatus
from inbox_agent.errors import ConfigError, TransientError
from inbox_agent.orders.book import OrderFinding, Outcome
from inbox_agent.orders.model import Order, Parcel
from inbox_agent.playbook import Facts
from inbox_agent.stages.queue import Queue
from inbox_agent.stages.retry import retry_for
from inbox_agent.stages.runtime import Runtime
from inbox_agent.store.payloads import EventPayload, IntentPayload, OrderChoice
from inbox_agent.store.tables import Case, Event, InboundMessage, Intent
from inbox_agent.tracking.http import ProviderUnavailable

COMPLAINTS = ("delivered_not_received", "where_is_my_order")
UNAVAILABLE = "unavailable"


def lookup_intent(case: Case, inbound: InboundMessage | None, facts: Facts, key: str,
                  now: datetime) -> Intent:
    """The intent of the `lookup_order` action: the order numbers the message wrote, and the
    complaint the lookup serves (this message's, else the one that opened the case)."""
    numbers = list(inbound.summary.order_numbers) if inbound is not None else []
    complaint = facts.intent if facts.intent in COMPLAINTS else (case.facts.complaint_intent or COMPLAINTS[0])
    return Intent(kind="order", case_id=case.id, idempotency_key=key,
                  payload=IntentPayload(numbers=numbers, intent=complaint), status=OutboxStatus.PENDING,
                  created_at=now, updated_at=now)


def run_once(rt: Runtime) -> int:
    return QUEUE.run_once(rt)


def handle_lookup(rt: Runtime, intent_id: int) -> None:
    """One order intent: the source asked outside any transaction, then its result in one."""
    request = _request(rt, intent_id)
    if request is None:
        return
    numbers, email = request
    try:
        if rt.orders is None:
            raise ConfigError(rt.config.source, "orders", "no order source is configured")
        finding: OrderFinding | str = rt.orders.find(numbers, email, rt.clock())
    except (ProviderUnavailable, ConfigError) as e:
        finding = str(e)
    _record(rt, intent_id, finding)


def _request(rt: Runtime, intent_id: int) -> tuple[list[str], str] | None:
    with rt.db.transaction() as s:
        intent = s.get(Intent, intent_id)
        if intent is None or intent.status != OutboxStatus.PENDING:
            return None
        case = s.get(Case, intent.case_id)
        assert case is not None
        return list(intent.payload.numbers), case.customer


def _record(rt: Runtime, intent_id: int, finding: OrderFinding | str) -> None:
    """Store what was found (or, after the last attempt, that nothing could be asked) and queue
    the event; a failure before the last attempt only delays the intent."""
    now = rt.clock()
    with rt.db.transaction() as s:
        intent = s.get(Intent, intent_id)
        if intent is None or intent.status != OutboxStatus.PENDING:
            return
        if isinstance(finding, str) and intent.attempts < retry_for(rt.config, "orders").attempts:
            raise TransientError(f"no answer from the order source: {finding}")  # the claim counted this try
        case = s.get(Case, intent.case_id)
        assert case is not None
        complaint = intent.payload.intent or COMPLAINTS[0]
        if isinstance(finding, str):
            outcome, fulfilled = UNAVAILABLE, False
            intent.last_error = finding[:2000]
        else:
            outcome = finding.outcome.value
            _remember(case, finding, complaint, now)
            fulfilled = finding.order is not None and finding.order.fulfilled
        facts = Facts(intent=complaint, order_fulfilled=fulfilled, order=outcome,
                      has_tracking=bool(case.tracking_numbers))
        intent.status, intent.updated_at = OutboxStatus.DONE, now
        s.add(Event(kind="order.looked_up", case_id=case.id, payload=EventPayload(facts=facts), status=WorkStatus.PENDING,
                    created_at=now))


def _remember(case: Case, finding: OrderFinding, complaint: str, now: datetime) -> None:
    """Keep the sender's own order on the case (its parcels become the case's tracking numbers);
    of another address's order keep only a note that it was asked about."""
    known_facts = case.facts
    facts: dict[str, object] = {"complaint_intent": complaint}
    order = finding.order
    if finding.outcome == Outcome.OTHER_ADDRESS:
        note = (f"{now:%Y-%m-%d}: {case.customer} asked about order {', '.join(finding.written)}, which was placed "
                "with another address; nothing of it was shown")
        facts["order_notes"] = [*known_facts.order_notes, note]
    elif finding.outcome == Outcome.NOT_FOUND:
        facts["order_written"] = list(finding.written)
    elif finding.outcome == Outcome.SEVERAL:
        facts["order_choices"] = [_choice(o) for o in finding.choices]
    elif order is not None:
        facts["order"] = order
        if not known_facts.customer_name and order.customer_name:
            facts["customer_name"] = order.customer_name
        if order.supplier and not known_facts.supplier_address:
            facts["supplier_address"] = order.supplier
        case.order_numbers = list(dict.fromkeys([order.number, *case.order_numbers]))
        known = {t.number for t in case.tracking_numbers}
        case.tracking_numbers = [*case.tracking_numbers, *(Parcel(number=p.number, carrier=p.carrier)
                                                           for p in order.parcels if p.number not in known)]
    case.facts = known_facts.model_copy(update=facts)


def _choice(order: Order) -> OrderChoice:
    return OrderChoice(number=order.number, date=order.created_at.date().isoformat() if order.created_at else "",
                       items=order.summary())


QUEUE = Queue("orders", Intent, (Intent.kind == "order", Intent.status == OutboxStatus.PENDING), handle_lookup,
              OutboxStatus.FAILED)
