"""Every outgoing message: templates in every language, HTML escaping, the picture, the
post-office directory, `check` and `preview`."""

from __future__ import annotations

import email
import email.policy
import io
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from inbox_agent.checks import template_problems
from inbox_agent.cli import main
from inbox_agent.config import Config, KitConfig, PathsConfig
from inbox_agent.errors import ConfigError
from inbox_agent.render.context import sample_context
from inbox_agent.render.directory import load_directory, validate_entry, visible_facts
from inbox_agent.render.localize import Reader, reader_for
from inbox_agent.render.message import build_message, case_tag, reply_subject
from inbox_agent.render.picture import (
    BACKGROUND,
    DELIVERED_BAND,
    HANDOVER_BAND,
    HEADER_BAND,
    INK,
    MUTED,
    SHADES,
    WIDTH,
    png_bytes,
    tracking_image,
)
from inbox_agent.render.templates import (
    CUSTOMER_TEMPLATES,
    PARTNER_TEMPLATES,
    PictureWords,
    picture_words,
    render,
    status_words,
)
from inbox_agent.rules import DEFAULT_RULES_DIR
from inbox_agent.tracking.status import TrackingEvent

CONFIG = Config()
LANGUAGES = ("en", "fr", "es", "de", "pt", "it", "nl")
TEMPLATES_DIR = CONFIG.paths.templates


@pytest.mark.parametrize("template", CUSTOMER_TEMPLATES)
@pytest.mark.parametrize("language", LANGUAGES)
def test_customer_template_renders_in_its_language(template: str, language: str) -> None:
    context = sample_context(CONFIG, "FR")
    rendered = render(TEMPLATES_DIR, template, [language], context)
    assert rendered.language == language
    assert rendered.subject and "\n" not in rendered.subject
    assert rendered.body.rstrip().endswith(CONFIG.store.signature)
    assert "Sam Rivera" in rendered.body
    assert rendered.html.startswith("<!DOCTYPE html>") and f'lang="{language}"' in rendered.html
    if template == "customer_post_office_kit":
        assert "https://www.laposte.fr/outils/suivre-vos-envois?code=LA482915635FR" in rendered.body
        assert '<a href="https://www.laposte.fr/outils/suivre-vos-envois?code=LA482915635FR">' in rendered.html
        assert "3631" in rendered.body


@pytest.mark.parametrize("template", PARTNER_TEMPLATES)
def test_partner_templates_are_english_with_the_numbers(template: str) -> None:
    rendered = render(TEMPLATES_DIR, template, ["en"], sample_context(CONFIG, "US"))
    assert "LP00123456789012" in rendered.body
    if template.startswith("supplier"):
        assert "8123456789012345" in rendered.subject
    if template == "distributor_last_mile_request":
        assert "please provide us the post office tracking number since we are not able to track it" in (
            rendered.body.lower().replace("\n", " "))
        assert "sam.rivera@example.org" in rendered.body
    if template == "supplier_dnr_request":
        assert "> My tracking says delivered last Tuesday" in rendered.body
        assert "this order appears as delivered but my client has not received it yet" in rendered.body.lower()


def test_kit_says_the_store_will_open_the_investigation_where_only_the_sender_may() -> None:
    nl = render(TEMPLATES_DIR, "customer_post_office_kit", ["nl"], sample_context(CONFIG, "NL"))
    assert "alleen de afzender een onderzoek starten, dus dat doen wij voor u" in nl.body
    fr = render(TEMPLATES_DIR, "customer_post_office_kit", ["fr"], sample_context(CONFIG, "FR"))
    assert "Seul l'expéditeur" not in fr.body


def test_unknown_language_falls_back_to_english() -> None:
    assert render(TEMPLATES_DIR, "customer_solved", ["ja"], sample_context(CONFIG)).language == "en"


def test_customer_text_cannot_become_html_or_a_header() -> None:
    context = {**sample_context(CONFIG, "FR"), "customer_name": '<script>alert("x")</script>',
               "customer_words": "<img src=x onerror=alert(1)>\nBcc: evil@example.org"}
    rendered = render(TEMPLATES_DIR, "supplier_dnr_request", ["en"], context)
    assert "<img src=x" not in rendered.html and "&lt;img src=x onerror=alert(1)&gt;" in rendered.html
    kit = render(TEMPLATES_DIR, "customer_post_office_kit", ["en"], context)
    assert "<script>" not in kit.html and "&lt;script&gt;" in kit.html
    raw = build_message(from_address="s@store.example", from_name='Store\r\nBcc: x@example.org',
                        to=["c@example.org"],
                        subject=reply_subject("Help\r\nBcc: victim@example.org <script>", case_tag(3, "a1b2c3d4")),
                        body=kit.body, message_id="<m@store.example>", intent_id=1, html=kit.html,
                        picture=b"\x89PNG fake", picture_cid="p@store.example")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Bcc"] is None and "\n" not in str(msg["Subject"])
    assert [p.get_content_type() for p in msg.walk()] == [
        "multipart/alternative", "text/plain", "multipart/related", "text/html", "image/png"]


def _events(n: int) -> list[TrackingEvent]:
    events = [TrackingEvent("2026-07-10T14:15:00-07:00", "LAS VEGAS, NV", "Delivered, In/At Mailbox", "01", "USPS"),
              TrackingEvent("2026-07-06T05:00:00-07:00", "Hong Kong", "Handed over to USPS", "", "Cainiao")]
    events += [TrackingEvent(f"2026-06-{20 - i:02d}T09:00:00+08:00", "Shenzhen", "In transit", "", "Cainiao")
               for i in range(n - 2)]
    return events


def _english() -> tuple[PictureWords, str, Reader]:
    return picture_words("en"), status_words("delivered", "en"), reader_for("en", "US")


def test_picture_is_a_png_with_the_delivered_scan_highlighted_and_text_drawn() -> None:
    delivered = "2026-07-10T14:15:00-07:00"
    drawn = tracking_image(_events(4), delivered, "USPS", "9400111206206406260787", *_english())
    image = Image.open(io.BytesIO(png_bytes(drawn)))
    assert image.format == "PNG" and image.width == WIDTH
    taller = Image.open(io.BytesIO(png_bytes(tracking_image(_events(8), delivered, "USPS", "940011", *_english()))))
    assert taller.height - image.height == 4 * 132
    rgb = image.convert("RGB")
    colours = {c for _, c in rgb.getcolors(maxcolors=1_000_000) or []}
    assert DELIVERED_BAND in colours and HANDOVER_BAND in colours
    delivered_row = rgb.crop((40, 255, WIDTH - 40, 360))
    dark = sum(delivered_row.convert("L").histogram()[:70])
    assert dark > 500, "the delivered event's text is drawn on its band"
    header = rgb.crop((40, 90, WIDTH - 40, 140))
    assert header.convert("L").histogram()[255] > 500, "the tracking number is written in white"
    assert image.mode == "P", "a palette image: one byte a pixel"
    assert rgb.getpixel((5, 5)) == HEADER_BAND and rgb.getpixel((5, image.height - 5)) == BACKGROUND
    assert INK in colours, "the text keeps its exact colour"
    edges = {c for _, c in delivered_row.getcolors(maxcolors=1_000_000) or []}
    assert len(edges) > SHADES // 2, "the letters keep their antialiased edges"


def _steps(background: tuple[int, int, int], ink: tuple[int, int, int]) -> set[tuple[int, ...]]:
    return {tuple(round(b + (i - b) * step / SHADES) for b, i in zip(background, ink, strict=True))
            for step in range(SHADES + 1)}


def test_picture_edges_are_steps_between_each_text_colour_and_its_own_background() -> None:
    """Grey text on the delivered band blends into the band, not into white (the picture is drawn
    as palette indices: each text on its own background's run of them)."""
    drawn = tracking_image(_events(4), "2026-07-10T14:15:00-07:00", "USPS", "940011", *_english())
    rgb = Image.open(io.BytesIO(png_bytes(drawn))).convert("RGB")
    time_line = rgb.crop((40, 252, WIDTH - 40, 284))  # the delivered scan's time and place, grey on green
    colours = {c for _, c in time_line.getcolors(maxcolors=1_000_000) or []}
    assert MUTED in colours and DELIVERED_BAND in colours
    assert len(colours) > SHADES // 2, "antialiased"
    assert colours <= _steps(DELIVERED_BAND, MUTED)
    number_line = rgb.crop((40, 92, WIDTH - 40, 135))  # white on the header's blue
    assert {c for _, c in number_line.getcolors(maxcolors=1_000_000) or []} <= _steps(HEADER_BAND, (255, 255, 255))


def test_directory_has_forty_countries_each_fact_with_source_and_confidence() -> None:
    directory = load_directory()
    assert len(directory) >= 40
    assert sum("tracking_url" in entry for entry in directory.values()) >= 40
    for country, entry in directory.items():
        assert "{number}" in entry.get("tracking_url", {"value": "{number}"})["value"], country
        for key, fact in entry.items():
            if key != "carrier":
                assert fact["source"] and fact["confidence"] in ("official", "secondary", "weak", "unverified")


@pytest.mark.parametrize("entry, words", [
    ({"tracking_url": {"value": "https://post.example/track", "source": "s", "confidence": "official"}}, "{number}"),
    ({"tracking_url": {"value": "ftp://post.example/{number}", "source": "s", "confidence": "official"}}, "http(s)"),
    ({"tracking_url": {"value": "https://post.example/{number}/{zip}", "source": "s", "confidence": "official"}},
     "placeholder"),
    ({"phone": {"value": "123", "confidence": "official"}}, "source"),
    ({"phone": {"value": "123", "source": "s", "confidence": "sure"}}, "confidence"),
    ({"claim_url": {"value": "https://post .example/claim", "source": "s", "confidence": "weak"}}, "http(s)"),
    ({"who_may_claim": {"value": "anyone", "source": "s", "confidence": "weak"}}, "recipient"),
])
def test_directory_loader_rejects_bad_entries(entry: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigError, match=None) as raised:
        validate_entry("stores/post.yaml", "XX", entry)
    assert words in str(raised.value) and "stores/post.yaml" in str(raised.value)


def test_unverified_facts_are_hidden_unless_the_store_opts_in(tmp_path: Path) -> None:
    overrides = tmp_path / "post.yaml"
    overrides.write_text("FR:\n  phone: {value: '+33 1 00 00 00 00', source: 'our call', confidence: unverified}\n"
                         "ZZ:\n  operator: {value: Zed Post, source: 'our notes', confidence: official}\n"
                         "  tracking_url: {value: 'https://zed.example/t/{number}', source: 'our notes', "
                         "confidence: official}\n")
    assert visible_facts("FR", "X", False, str(overrides))["phone"] is None  # type: ignore[index]
    assert visible_facts("FR", "X", True, str(overrides))["phone"] == "+33 1 00 00 00 00"  # type: ignore[index]
    assert visible_facts("ZZ", "N1", False, str(overrides))["tracking_url"] == "https://zed.example/t/N1"  # type: ignore[index]
    assert visible_facts("ZZ", "N1", False) is None


def test_check_reports_a_missing_language_and_an_undefined_variable(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, folder)
    (folder / "customer_reship.it.txt.j2").unlink()
    (folder / "customer_solved.de.txt.j2").write_text(
        "{% block subject %}Hallo{% endblock %}{% block body %}{{ no_such_thing }}{% endblock %}")
    config = Config(paths=PathsConfig(rules=str(DEFAULT_RULES_DIR), templates=str(folder)))
    problems = template_problems(config)
    assert any(p.startswith("template customer_reship.it: missing") for p in problems)
    assert any(p.startswith("template customer_solved.de: UndefinedError") for p in problems)
    assert len(problems) == 2
    assert template_problems(CONFIG) == []


def test_preview_prints_and_writes_the_eml_and_png(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["preview", "customer_post_office_kit", "--lang", "de", "--country", "DE",
                                       "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Deutsche Post / DHL Paket" in result.output and "Language: de" in result.output
    eml = email.message_from_bytes((tmp_path / "customer_post_office_kit.de.eml").read_bytes(),
                                   policy=email.policy.default)
    assert eml.get_body(preferencelist=("html",)) is not None
    assert Image.open(tmp_path / "customer_post_office_kit.de.png").format == "PNG"
    unknown = CliRunner().invoke(main, ["preview", "customer_nothing"])
    assert unknown.exit_code == 2 and "unknown template" in unknown.output


def test_kit_config_is_read() -> None:
    assert KitConfig(show_unverified=True).show_unverified


def test_page_screenshot_without_a_browser_is_simply_absent() -> None:
    from inbox_agent.render.screenshot import page_screenshot

    assert page_screenshot("https://tools.usps.com/go/TrackConfirmAction?tLabels=1", browser="no-such-browser-here",
                           timeout=5) is None
    assert page_screenshot("file:///etc/passwd") is None


def test_a_carrier_description_holding_line_breaks_is_drawn_on_one_line() -> None:
    """A carrier's scan text may hold line breaks; the picture draws it as the same words on one
    line (the same pixels as with spaces), never fails on it."""
    def events(place: str, text: str) -> list[TrackingEvent]:
        return [TrackingEvent("2026-07-10T14:15:00-07:00", place, text, "01", "USPS")]

    broken = tracking_image(events("LAS VEGAS,\r\nNV", "Delivered,\nIn/At\r\nMailbox"), None, "USPS", "940011",
                            *_english())
    spaced = tracking_image(events("LAS VEGAS, NV", "Delivered, In/At Mailbox"), None, "USPS", "940011", *_english())
    assert broken.tobytes() == spaced.tobytes()
