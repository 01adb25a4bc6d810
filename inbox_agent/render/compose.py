"""Compose a message at decide time: render the template with the case's facts and build the
MIME message with its fixed Message-ID, as an outbox row (`intent` of kind reply).

Customer messages answer the customer's latest message (In-Reply-To/References) in the case's
language, falling back to the store default. Partner messages (distributor_*, supplier_*) go to
the party's address on its own thread: the first starts a thread with the case tag in its
subject, later ones answer the party's latest message on that thread. Subjects are the
template's own (with the case tag), never text a sender wrote. The post-office kit carries the
picture of the tracking history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from inbox_agent.domain import OutboxStatus
from inbox_agent.errors import MissingParty
from inbox_agent.mailbox.proof import html_with_reference, stored_key, text_with_reference, token
from inbox_agent.render.context import build_context, order_context
from inbox_agent.render.localize import reader_for
from inbox_agent.render.message import build_message, case_tag, new_message_id, reply_subject
from inbox_agent.render.picture import png_bytes, tracking_image
from inbox_agent.render.screenshot import page_screenshot
from inbox_agent.render.templates import picture_words, render, status_words
from inbox_agent.stages.runtime import Runtime
from inbox_agent.store.database import reserved_id
from inbox_agent.store.payloads import IntentPayload, Summary
from inbox_agent.store.tables import Case, InboundMessage, Intent
from inbox_agent.tracking.status import TrackingStatus

PICTURE_TEMPLATES = ("customer_post_office_kit",)


def party_of(template: str) -> str:
    """Who a template writes to: customer, distributor or supplier (its name's prefix)."""
    return template.split("_", 1)[0]


def compose_reply(rt: Runtime, s: Session, case: Case, template: str, key: str, now: datetime,
                  reminder_count: int = 0) -> Intent:
    """The reply intent of `template` for `case`, added to the session. `key` names the decision's
    action (its event, its place): the event is handled once (done in the same transaction), and
    the key's unique index refuses a second intent of one action whatever happens, so it is not
    looked up first."""
    store = rt.config.store
    party = party_of(template)
    recipient = case.customer if party == "customer" else _party_address(rt, case, party)
    summary = _latest_from(s, case, party) or Summary()
    facts = case.facts
    view = main_tracking(case)
    wants_picture = template in PICTURE_TEMPLATES and view is not None
    context = build_context(
        rt.config, customer_name=facts.customer_name, customer_email=case.customer,
        order_numbers=list(case.order_numbers), tracking=view,
        tracking_numbers=[t.number for t in case.tracking_numbers],
        customer_words=facts.customer_words, done_so_far=facts.done_so_far,
        reminder_count=reminder_count, new_tracking_number=facts.new_tracking_number or "",
        new_tracking_url=facts.new_tracking_url or "", picture=wants_picture,
        case_ref=f"C-{case.id}", **order_context(facts),
    )
    languages = [case.language, store.default_language] if party == "customer" else ["en"]
    cid = f"tracking-{case.id}@{store.support_address.rsplit('@', 1)[-1]}"
    rendered = render(rt.config.paths.templates, template, languages, context, cid if wants_picture else None)
    picture = tracking_png_for(view, rendered.language) if wants_picture and view is not None else None
    message_id = new_message_id(store.support_address.rsplit("@", 1)[-1])
    # its id goes into the message (our header, the proof): taken before the INSERT where the
    # database can, so the row goes out once, message included; on SQLite the INSERT gives it
    intent = Intent(id=reserved_id(s, Intent), kind="reply", case_id=case.id, idempotency_key=key,
                    template=template, mode=rt.config.replies.mode_for(template), status=OutboxStatus.PENDING,
                    recipients=[recipient], payload=IntentPayload(language=rendered.language, party=party),
                    message_id=message_id, created_at=now, updated_at=now)
    if intent.id is None:
        s.add(intent)
        s.flush()
    tag = case_tag(case.id, facts.tag_token)
    answers_a_thread = bool(summary.subject) or party == "customer"
    # our own words: never a sender's subject
    subject = reply_subject(rendered.subject, tag) if answers_a_thread else f"{rendered.subject} {tag}"
    body, html, proof = rendered.body, rendered.html, _draft_proof(rt, s, intent)
    if proof is not None:
        body, html = text_with_reference(body, proof), html_with_reference(html, proof)
    intent.raw = build_message(
        from_address=store.support_address, from_name=store.name, to=[recipient], subject=subject,
        body=body, message_id=message_id, intent_id=intent.id,
        in_reply_to=summary.message_id, references=tuple(summary.thread_ids),
        html=html, picture=picture, picture_cid=cid if picture else None,
        attachments=_page_screenshot(rt, context) if picture else (), proof=proof,
    )
    s.add(intent)  # its one INSERT on PostgreSQL (on SQLite it was added above; adding again changes nothing)
    return intent


def _draft_proof(rt: Runtime, s: Session, intent: Intent) -> str | None:
    """A draft for Review is built with its proof (mailbox/proof.py) here, so the draft stage need
    not parse and rebuild the whole message, picture included, to add it. None for automatic
    messages (which carry no reference line), and while the database has no key yet (the draft
    stage makes it and adds the proof then). The key never changes once made: it is read once per
    worker (`Runtime.draft_key`), not once per draft."""
    if intent.mode != "draft":
        return None
    if rt.draft_key is None:
        rt.draft_key = stored_key(s)
    key = rt.draft_key
    return token(key, intent.case_id, intent.id, list(intent.recipients)) if key is not None else None


def _page_screenshot(rt: Runtime, context: dict[str, Any]) -> tuple[tuple[str, bytes], ...]:
    """The post office's own tracking page, when the store turned screenshots on and it worked."""
    url = context["post"].get("tracking_url")
    if not rt.config.kit.page_screenshot or not url:
        return ()
    shot = page_screenshot(url, rt.config.kit.browser)
    return (("post-office-tracking-page.png", shot),) if shot else ()


def tracking_png_for(view: TrackingStatus, language: str) -> bytes:
    """The tracking picture of `view`, in `language` for the destination's reader."""
    return png_bytes(tracking_image_for(view, language))


def tracking_image_for(view: TrackingStatus, language: str) -> Image.Image:
    """The tracking picture of `view` drawn, not yet encoded (see `tracking_png_for`)."""
    from inbox_agent.render.directory import visible_facts

    last = view.post_number
    country = view.destination_country
    post = visible_facts(country, last, True) or {}
    words = picture_words(language)
    return tracking_image(view.events, view.delivered_at, str(post.get("operator") or words.title), last, words,
                          status_words(view.status, language), reader_for(language, country))


def main_tracking(case: Case) -> TrackingStatus | None:
    """The parcel view the case is about: a replacement parcel once tracked, the distributor's
    last-mile number once tracked, else a delivered parcel whose post office knows it, else any
    delivered one, else the first. Its destination is the order's shipping country when the
    trackers did not say."""
    view = _main_view(case)
    order = case.facts.order
    if view is not None and order is not None and order.country and not view.destination_country:
        view = replace(view, destination_country=order.country)
    return view


def _main_view(case: Case) -> TrackingStatus | None:
    tracking = case.facts.tracking
    views = list(tracking.values())
    for given_number in (case.facts.new_tracking_number, case.facts.last_mile_number):
        given = tracking.get(given_number or "")
        if given is not None and given.status != "not_found":
            return given
    wanted: tuple[Callable[[TrackingStatus], bool], ...] = (
        lambda v: v.status == "delivered" and v.last_mile_status not in (None, "not_found"),
        lambda v: v.status == "delivered", lambda v: True)
    for test in wanted:
        found = next((v for v in views if test(v)), None)
        if found is not None:
            return found
    return None


def _latest_from(s: Session, case: Case, party: str) -> Summary | None:
    """What the party's latest message on this case says, to answer on its thread (its summary
    alone: the raw messages are not read). The messages in the session count as they are there
    (a message linked to the case by this transaction, not yet written), so the query need not
    flush the session's changes first: they go out in the item's one flush."""
    with s.no_autoflush:
        summaries = {at: summary for at, summary in s.execute(
            select(InboundMessage.id, InboundMessage.summary).where(InboundMessage.case_id == case.id))}
    for held in s.identity_map.values():
        if isinstance(held, InboundMessage):
            if held.case_id == case.id:
                summaries[held.id] = held.summary
            else:
                summaries.pop(held.id, None)
    return next((summaries[at] for at in sorted(summaries, reverse=True) if summaries[at].sender_role == party), None)


def _party_address(rt: Runtime, case: Case, party: str) -> str:
    """The distributor's or supplier's address: the one on the case, else the first full address
    configured under [parties]."""
    known = case.facts.distributor_address if party == "distributor" else case.facts.supplier_address
    if known:
        return known
    configured = rt.config.parties.distributors if party == "distributor" else rt.config.parties.suppliers
    address = next((a for a in configured if not a.startswith("@")), None)
    if address is None:
        raise MissingParty(f"no {party} address is known: set one under [parties] {party}s")
    return address
