"""What the customer reads is in their language and conventions: no English word of ours in
another language, dates in the locale's format and time zone, the store's own wording per
language, a Subject whose value starts on its first line, paragraphs never broken mid-sentence."""

from __future__ import annotations

import email
import email.policy
import re

import pytest

from inbox_agent.config import Config, StoreConfig, StoreWording
from inbox_agent.render.context import build_context, sample_context
from inbox_agent.render.localize import reader_for
from inbox_agent.render.message import build_message, case_tag, fold_value, reply_subject
from inbox_agent.render.templates import CUSTOMER_TEMPLATES, TEMPLATES, URL, picture_words, render
from inbox_agent.tracking.status import LastMile, TrackingEvent, TrackingStatus

CONFIG = Config()
OTHER_LANGUAGES = ("fr", "es", "de", "pt", "it", "nl")
# Words a language shares with our English text, each a word of that language in its own right.
SHARED_WORDS = {
    "fr": {"contact", "patience", "confirmation", "message", "scan"},
    "es": {"original"},
    "de": {"post", "bank"},
    "pt": {"original"},
    "it": set(),
    "nl": {"contact", "bank", "update"},
}
# Not our words: the product's name, month abbreviations the locale writes, the post's own phone text.
NOT_OURS = {"inbox", "agent", "nov", "november", "ask", "tty"}
DELIVERED_VIEW = TrackingStatus(
    provider="seventeen_track", number="LP00123456789012", status="delivered",
    delivered_at="2026-11-27T14:03:00+00:00", origin_country="CN", destination_country="FR",
    last_mile=LastMile(carrier="laposte", number="LA482915635FR"),
    events=(TrackingEvent("2026-11-27T14:03:00+00:00", "PARIS", "Votre colis est livré"),
            TrackingEvent("2026-11-20T02:00:00+08:00", "Shenzhen", "Departed")),
    tracking_url=None, fetched_at="2026-11-28T09:00:00+00:00",
)


def _our_words(template: str, language: str, country: str) -> set[str]:
    """The words of a rendered message that come from us: carrier events, the post's facts, the
    store's and the customer's own words, links and numbers taken out."""
    context = sample_context(CONFIG, country)
    rendered = render(CONFIG.paths.templates, template, [language], context)
    text = URL.sub(" ", f"{rendered.subject}\n{rendered.body}")
    theirs = [e[k] for e in context["events"] for k in ("description", "location")]
    theirs += [context["store"]["signature"], context["store"]["name"], context["customer_words"],
               context["customer_name"], *(c["items"] for c in context["order_choices"])]
    theirs += [URL.sub(" ", v) for v in context["post"].values() if isinstance(v, str)]
    for value in sorted(theirs, key=len, reverse=True):
        text = text.replace(value, " ")
    return {w.lower() for w in re.findall(r"[^\W\d_]{3,}", text)} - NOT_OURS


@pytest.mark.parametrize("country", ["US", "FR"])
@pytest.mark.parametrize("template", CUSTOMER_TEMPLATES)
def test_no_english_word_of_ours_in_another_language(template: str, country: str) -> None:
    english = _our_words(template, "en", country)
    for language in OTHER_LANGUAGES:
        leaked = (english & _our_words(template, language, country)) - SHARED_WORDS[language]
        assert leaked == set(), f"{template}.{language}: {sorted(leaked)}"


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_picture_and_layout_words_exist_in_every_language(language: str) -> None:
    english, words = picture_words("en"), picture_words(language)
    for field in ("title", "tracking_number", "delivered_on", "no_events", "footer", "picture_alt"):
        assert getattr(words, field) != getattr(english, field), f"{language}.{field} is the English text"
    rendered = render(CONFIG.paths.templates, "customer_post_office_kit", [language], sample_context(CONFIG, "FR"),
                      picture_cid="tracking@store.example")
    assert f'alt="{words.picture_alt.format(operator="La Poste / Colissimo", number="LA482915635FR")}"' in rendered.html


@pytest.mark.parametrize(("language", "country", "day", "moment"), [
    ("fr", "FR", "27 novembre 2026", "27 nov. 2026, 15:03"),
    ("en", "US", "November 27, 2026", "Nov 27, 2026, 2:03 PM"),
    ("en", "GB", "27 November 2026", "27 Nov 2026, 14:03"),
    ("de", "DE", "27. November 2026", "27.11.2026, 15:03"),
    ("nl", "NL", "27 november 2026", "27 nov 2026, 15:03"),
])
def test_dates_follow_the_customers_locale_and_time_zone(language: str, country: str, day: str, moment: str) -> None:
    reader = reader_for(language, country)
    assert reader.day("2026-11-27T14:03:00+00:00") == day
    assert reader.moment("2026-11-27T14:03:00+00:00").replace("\u202f", " ") == moment


def test_a_country_with_several_time_zones_keeps_the_carriers_time() -> None:
    assert reader_for("en", "US").moment("2026-11-27T09:03:00-05:00").replace("\u202f", " ") == "Nov 27, 2026, 9:03 AM"
    assert reader_for("en", "US").moment("not a date") == "not a date"


def test_the_kit_writes_dates_as_the_french_customer_reads_them() -> None:
    context = build_context(CONFIG, order_numbers=["1043"], tracking=DELIVERED_VIEW,
                            tracking_numbers=["LP00123456789012"], customer_name="Léa")
    body = render(CONFIG.paths.templates, "customer_post_office_kit", ["fr"], context).body
    assert "livré le 27 novembre 2026" in body
    assert "27 nov. 2026, 15:03  PARIS  Votre colis est livré" in body
    assert "2026-11-27" not in body


def test_the_store_signs_in_the_customers_language_and_falls_back_to_its_default() -> None:
    store = StoreConfig(signature="The Maple team", tagline="Home and garden",
                        wording={"fr": StoreWording(signature="L'équipe Maple", tagline="Maison et jardin")})
    config = Config(store=store)
    context = sample_context(config, "FR")
    french = render(config.paths.templates, "customer_solved", ["fr"], context)
    german = render(config.paths.templates, "customer_solved", ["de"], context)
    assert french.body.rstrip().endswith("L'équipe Maple") and "Maison et jardin" in french.html
    assert german.body.rstrip().endswith("The Maple team") and "Home and garden" in german.html


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("language", ("en", *OTHER_LANGUAGES))
def test_subject_value_starts_on_the_first_line_and_reads_back_whole(template: str, language: str) -> None:
    rendered = render(CONFIG.paths.templates, template, [language], sample_context(CONFIG, "FR"))
    subject = reply_subject(rendered.subject + " and a few more words to make it long enough to fold",
                            case_tag(123, "a1b2c3d4"))
    raw = build_message(from_address="support@store.example", from_name="Store", to=["sam@example.org"],
                        subject=subject, body=rendered.body, message_id="<m@store.example>", intent_id=1)
    header = re.search(rb"^Subject:(.*?)\r\n(?! )", raw, re.M | re.S)
    assert header is not None
    assert header.group(1).startswith(b" ") and header.group(1)[1:2] not in (b"", b"\r", b" ")
    assert all(len(line) <= 78 for line in header.group(0).split(b"\r\n"))
    assert email.message_from_bytes(raw, policy=email.policy.default)["Subject"] == subject


def test_fold_keeps_a_long_word_whole_and_the_value_on_the_first_line() -> None:
    assert fold_value("Subject", "Re: " + "x" * 90).startswith("Re:\r\n x")
    assert fold_value("Subject", "Commande 1043 livrée") == "=?utf-8?q?Commande_1043_livr=C3=A9e?="


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("country", ["US", "FR"])
def test_no_line_break_inside_a_sentence(template: str, country: str) -> None:
    languages = ("en", *OTHER_LANGUAGES) if template in CUSTOMER_TEMPLATES else ("en",)
    for language in languages:
        body = render(CONFIG.paths.templates, template, [language], sample_context(CONFIG, country)).body
        lines = body.split("\n")
        for line, following in zip(lines, lines[1:], strict=False):
            ends_open = line.strip() and not re.search(r"([.!?:;)»\"…]|https?://\S+|\d)\s*$", line)
            continues = re.match(r"[^\W\d]", following) and not re.match(r"[^:]{1,40} ?: ", following)
            assert not (ends_open and continues), f"{template}.{language}: {line!r} / {following!r}"


def test_reader_counts_in_the_locale() -> None:
    assert reader_for("fr", "FR").count(1500) == "1\u202f500"
    assert reader_for("de", "DE").count(1500) == "1.500"
