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

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from inbox_agent.domain import OutboxStatus
from inbox_agent.errors import MissingParty
from inbox_agent.mailbox.proof import html_with_reference, stored_key, text_with_reference, token
from inbox_agent.render.context import build_context, order_context
from inbox_agent.render.localize import reader_for
from inbox_agent.render.message import build_message, case_tag, new_message_id, reply_subject
from inbox_agent.render.picture import tracking_png
from inbox_agent.render.screenshot import page_screenshot
from inbox_agent.render.templates import picture_words, render, status_words
from inbox_agent.stages.runtime import Runtime
from inbox_agent.store.tables import Case, InboundMessage, Intent

PICTURE_TEMPLATES = ("customer_post_office_kit",)


def party_of(template: str) -> str:
    """Who a template writes to: customer, distributor or supplier (its name's prefix)."""
    return template.split("_", 1)[0]


def compose_reply(rt: Runtime, s: Session, case: Case, template: str, key: str, now: datetime,
                  extra: dict[str, Any] | None = None) -> Intent:
    existing = s.scalar(select(Intent).where(Intent.idempotency_key == key))
    if existing is not None:
        return existing
    store = rt.config.store
    party = party_of(template)
    recipient = case.customer if party == "customer" else _party_address(rt, case, party)
    latest = _latest_from(s, case, party)
    summary = latest.summary if latest is not None else {}
    view = main_tracking(case)
    wants_picture = template in PICTURE_TEMPLATES and view is not None
    context = build_context(
        rt.config, customer_name=case.facts.get("customer_name") or "", customer_email=case.customer,
        order_numbers=list(case.order_numbers), tracking=view,
        tracking_numbers=[t["number"] for t in case.tracking_numbers],
        customer_words=case.facts.get("customer_words") or "", done_so_far=case.facts.get("done_so_far") or [],
        reminder_count=int((extra or {}).get("reminder_count", 0)),
        new_tracking_number=case.facts.get("new_tracking_number") or "",
        new_tracking_url=case.facts.get("new_tracking_url") or "", picture=wants_picture,
        case_ref=f"C-{case.id}", **order_context(case.facts),
    )
    languages = [case.language, store.default_language] if party == "customer" else ["en"]
    cid = f"tracking-{case.id}@{store.support_address.rsplit('@', 1)[-1]}"
    rendered = render(rt.config.paths.templates, template, languages, context, cid if wants_picture else None)
    picture = tracking_png_for(view, rendered.language) if wants_picture and view is not None else None
    intent = Intent(kind="reply", case_id=case.id, idempotency_key=key, template=template,
                    mode=rt.config.replies.mode_for(template), status=OutboxStatus.PENDING,
                    recipients=[recipient], payload={"language": rendered.language, "party": party},
                    created_at=now, updated_at=now)
    s.add(intent)
    s.flush()
    intent.message_id = new_message_id(store.support_address.rsplit("@", 1)[-1])
    tag = case_tag(case.id, case.facts.get("tag_token") or "")
    if summary.get("subject") or party == "customer":
        subject = reply_subject(rendered.subject, tag)  # our own words: never a sender's subject
    else:
        subject = f"{rendered.subject} {tag}"
    body, html, proof = rendered.body, rendered.html, _draft_proof(s, intent)
    if proof is not None:
        body, html = text_with_reference(body, proof), html_with_reference(html, proof)
    intent.raw = build_message(
        from_address=store.support_address, from_name=store.name, to=[recipient], subject=subject,
        body=body, message_id=intent.message_id, intent_id=intent.id,
        in_reply_to=summary.get("message_id"), references=tuple(summary.get("thread_ids") or ()),
        html=html, picture=picture, picture_cid=cid if picture else None,
        attachments=_page_screenshot(rt, context) if picture else (), proof=proof,
    )
    return intent


def _draft_proof(s: Session, intent: Intent) -> str | None:
    """A draft for Review is built with its proof (mailbox/proof.py) here, so the draft stage need
    not parse and rebuild the whole message, picture included, to add it. None for automatic
    messages (which carry no reference line), and while the database has no key yet (the draft
    stage makes it and adds the proof then)."""
    key = stored_key(s) if intent.mode == "draft" else None
    return token(key, intent.case_id, intent.id, list(intent.recipients)) if key is not None else None


def _page_screenshot(rt: Runtime, context: dict[str, Any]) -> tuple[tuple[str, bytes], ...]:
    """The post office's own tracking page, when the store turned screenshots on and it worked."""
    url = context["post"].get("tracking_url")
    if not rt.config.kit.page_screenshot or not url:
        return ()
    shot = page_screenshot(url, rt.config.kit.browser)
    return (("post-office-tracking-page.png", shot),) if shot else ()


def tracking_png_for(view: dict[str, Any], language: str) -> bytes:
    """The tracking picture of `view`, in `language` for the destination's reader."""
    from inbox_agent.render.directory import visible_facts

    last = (view.get("last_mile") or {}).get("number") or view.get("number") or ""
    country = view.get("destination_country")
    post = visible_facts(country, last, True) or {}
    words = picture_words(language)
    return tracking_png(view, str(post.get("operator") or words.title), last, words,
                        status_words(str(view.get("status") or ""), language), reader_for(language, country))


def main_tracking(case: Case) -> dict[str, Any] | None:
    """The parcel view the case is about: a replacement parcel once tracked, the distributor's
    last-mile number once tracked, else a delivered parcel whose post office knows it, else any
    delivered one, else the first. Its destination is the order's shipping country when the
    trackers did not say."""
    view = _main_view(case)
    country = ((case.facts.get("order") or {}).get("country") or "") if view is not None else ""
    if view is not None and country and not view.get("destination_country"):
        view["destination_country"] = country
    return view


def _main_view(case: Case) -> dict[str, Any] | None:
    tracking: dict[str, Any] = case.facts.get("tracking") or {}
    views = list(tracking.values())
    for fact in ("new_tracking_number", "last_mile_number"):
        given = tracking.get(case.facts.get(fact) or "")
        if given and given.get("status") != "not_found":
            return dict(given)
    for wanted in (lambda v: v.get("status") == "delivered" and v.get("last_mile_status") not in (None, "not_found"),
                   lambda v: v.get("status") == "delivered", lambda v: True):
        found = next((v for v in views if wanted(v)), None)
        if found is not None:
            return dict(found)
    return None


def _latest_from(s: Session, case: Case, party: str) -> InboundMessage | None:
    """The party's latest message on this case, to answer on its thread."""
    rows = s.scalars(select(InboundMessage).where(InboundMessage.case_id == case.id)
                     .order_by(InboundMessage.id.desc()))
    return next((r for r in rows if r.summary.get("sender_role") == party), None)


def _party_address(rt: Runtime, case: Case, party: str) -> str:
    """The distributor's or supplier's address: the one on the case, else the first full address
    configured under [parties]."""
    known = case.facts.get(f"{party}_address")
    if known:
        return str(known)
    configured = rt.config.parties.distributors if party == "distributor" else rt.config.parties.suppliers
    address = next((a for a in configured if not a.startswith("@")), None)
    if address is None:
        raise MissingParty(f"no {party} address is known: set one under [parties] {party}s")
    return address
