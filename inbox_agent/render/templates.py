"""Rendering outgoing messages: Jinja2 with StrictUndefined (a missing variable is an error, never
a blank) and autoescape for HTML.

A template is `templates/<name>.<lang>.txt.j2` with blocks `subject` and `body`. The HTML
alternative is the same text laid out by `templates/_layout.html.j2` with autoescaping on, links
made clickable after escaping, so customer words can never become markup. A missing language
falls back to the store default, then English. Customer templates exist in every store
language; partner templates (distributor, supplier) in English.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound, select_autoescape
from markupsafe import Markup, escape

from inbox_agent.errors import PermanentError
from inbox_agent.render.localize import Reader, reader_for
from inbox_agent.rules import load_rules_file

CUSTOMER_TEMPLATES = ("customer_ack", "customer_post_office_kit", "customer_followup", "customer_supplier_contacted",
                      "customer_refund_confirmed", "customer_reship", "customer_solved", "customer_ask_order_number",
                      "customer_ask_tracking_number",
                      "customer_tracking_status", "customer_which_order", "customer_order_not_found",
                      "customer_order_other_address", "customer_not_shipped")
PARTNER_TEMPLATES = ("distributor_last_mile_request", "distributor_reminder", "supplier_dnr_request",
                     "supplier_refund_request", "supplier_reminder")
TEMPLATES = CUSTOMER_TEMPLATES + PARTNER_TEMPLATES
URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)]")


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    html: str
    language: str


@lru_cache(maxsize=4)
def environment(folder: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(folder),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False),
        keep_trailing_newline=True,
    )
    env.filters["linkify"] = linkify
    return env


def linkify(text: str) -> Markup:
    """Escape `text`, then turn http(s) URLs into links; line breaks become <br>."""
    out = []
    last = 0
    for m in URL.finditer(text):
        out.append(escape(text[last:m.start()]))
        url = escape(m.group(0))
        out.append(Markup(f'<a href="{url}">{url}</a>'))
        last = m.end()
    out.append(escape(text[last:]))
    return Markup("").join(out).replace("\n", Markup("<br>\n"))


def render(folder: str, name: str, languages: list[str], context: Mapping[str, Any],
           picture_cid: str | None = None) -> Rendered:
    """Render template `name` in the first of `languages` that exists (then English)."""
    env = environment(folder)
    for language in dict.fromkeys([*languages, "en"]):
        try:
            template = env.get_template(f"{name}.{language}.txt.j2")
        except TemplateNotFound:
            continue
        country = (context.get("destination_country") or (context.get("post") or {}).get("country")
                   or context.get("order_country"))
        reader = reader_for(language, country)
        values = {**localized(context, language, reader),
                  "status_words": status_words(str(context.get("status") or ""), language)}
        ctx = template.new_context(values)
        subject = " ".join("".join(template.blocks["subject"](ctx)).split())
        body = re.sub(r"\n{3,}", "\n\n", "".join(template.blocks["body"](ctx)).strip()) + "\n"
        html = env.get_template("_layout.html.j2").render(
            language=language, subject=subject, paragraphs=body.strip().split("\n\n"), picture_cid=picture_cid,
            picture_alt=_picture_alt(context, language), store=values["store"])
        return Rendered(subject, body, html, language)
    raise PermanentError(f"template {name!r} exists in none of {languages + ['en']}")


def localized(context: Mapping[str, Any], language: str, reader: Reader) -> dict[str, Any]:
    """`context` as the reader of `language` sees it: dates, times and counts in their locale,
    the store's wording for that language (default wording where it has none)."""
    store = dict(context.get("store") or {})
    wording = (store.pop("wording", None) or {}).get(language) or {}
    store.update({k: v for k, v in wording.items() if v})
    post = dict(context.get("post") or {})
    if isinstance(post.get("wait_days"), int | float):
        post["wait_days"] = reader.count(post["wait_days"])
    events = [{**e, "time": reader.moment(str(e.get("time") or ""))} for e in context.get("events") or []]
    choices = [{**c, "date": reader.day(str(c.get("date") or ""))} for c in context.get("order_choices") or []]
    return {**context, "store": store, "post": post, "events": events, "order_choices": choices,
            "delivered_at": reader.day(str(context.get("delivered_at") or "")),
            "order_date": reader.day(str(context.get("order_date") or ""))}


@dataclass(frozen=True)
class PictureWords:
    """Our words on the tracking picture and in the HTML layout, in one language."""

    title: str
    tracking_number: str
    status: str
    delivered_on: str
    no_events: str
    footer: str
    picture_alt: str


def picture_words(language: str) -> PictureWords:
    table = load_rules_file("picture_words.yaml") or {}
    return PictureWords(**(table.get(language) or table["en"]))


def status_words(status: str, language: str) -> str:
    table = load_rules_file("status_words.yaml") or {}
    words = table.get(language) or table.get("en") or {}
    return str(words.get(status, status.replace("_", " ")))


def _picture_alt(context: Mapping[str, Any], language: str) -> str:
    post = context.get("post") or {}
    text = picture_words(language).picture_alt.format(operator=post.get("operator") or "",
                                                      number=context.get("last_mile_number") or "")
    return " ".join(text.split())
