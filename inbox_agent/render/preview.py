"""`inbox-agent preview`: one template rendered with sample case data, as text, .eml and PNG.

The .eml is exactly what the daemon would put in Review (text and HTML alternatives, the picture
inline for the kit), so it can be opened in a real mail client.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from inbox_agent.config import Config
from inbox_agent.errors import PermanentError
from inbox_agent.render.compose import PICTURE_TEMPLATES, party_of, tracking_png_for
from inbox_agent.render.context import sample_context, sample_view
from inbox_agent.render.message import build_message, case_tag, new_message_id, reply_subject
from inbox_agent.render.templates import TEMPLATES, render


@dataclass(frozen=True)
class Preview:
    text: str
    eml: bytes
    png: bytes | None
    language: str


def preview(config: Config, template: str, language: str, country: str) -> Preview:
    if template not in TEMPLATES:
        raise PermanentError(f"unknown template {template!r}; expected one of {', '.join(TEMPLATES)}")
    context = sample_context(config, country)
    store = config.store
    domain = store.support_address.rsplit("@", 1)[-1]
    wants_picture = template in PICTURE_TEMPLATES
    cid = f"tracking-preview@{domain}"
    rendered = render(config.paths.templates, template, [language, store.default_language], context,
                      cid if wants_picture else None)
    png = None
    if wants_picture:
        png = tracking_png_for(sample_view(country), rendered.language)
    party = party_of(template)
    to = context["customer_email"] if party == "customer" else f"{party}@partner.example"
    tag = case_tag(1, "k7q2a9x3")
    subject = reply_subject(rendered.subject, tag) if party == "customer" else f"{rendered.subject} {tag}"
    eml = build_message(from_address=store.support_address, from_name=store.name, to=[to], subject=subject,
                        body=rendered.body, message_id=new_message_id(domain), intent_id=0, html=rendered.html,
                        picture=png, picture_cid=cid if png else None)
    text = f"Subject: {subject}\nLanguage: {rendered.language}\n\n{rendered.body}"
    return Preview(text, eml, png, rendered.language)


def write_preview(result: Preview, template: str, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = [out / f"{template}.{result.language}.eml"]
    written[0].write_bytes(result.eml)
    if result.png is not None:
        written.append(out / f"{template}.{result.language}.png")
        written[1].write_bytes(result.png)
    return written
