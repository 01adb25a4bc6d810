"""The post-office directory (rules/post_offices.yaml): facts with their source and confidence.

`visible_facts()` gives what may be shown to a customer: facts tagged `unverified` are left out
unless the store opted in. Loading rejects an entry without a source or with a tracking URL that
is not an http(s) template holding `{number}`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from inbox_agent.errors import ConfigError
from inbox_agent.rules import load_rules_file

CONFIDENCE = ("official", "secondary", "weak", "unverified")


def load_directory(name: str = "post_offices.yaml") -> dict[str, dict[str, Any]]:
    data = load_rules_file(name) or {}
    for country, entry in data.items():
        validate_entry(f"rules/{name}", country, entry)
    return data


def validate_entry(source: str, country: str, entry: dict[str, Any]) -> None:
    for key, fact in entry.items():
        if key == "carrier":
            continue
        if not isinstance(fact, dict) or "value" not in fact:
            raise ConfigError(source, f"{country}.{key}", "expected {value, source, confidence}")
        if not fact.get("source"):
            raise ConfigError(source, f"{country}.{key}", "a fact needs its source")
        if fact.get("confidence") not in CONFIDENCE:
            raise ConfigError(source, f"{country}.{key}", f"confidence must be one of {', '.join(CONFIDENCE)}")
        if key == "tracking_url":
            url = str(fact["value"])
            if "{number}" not in url or urlparse(url).scheme not in ("http", "https"):
                raise ConfigError(source, f"{country}.{key}", "an http(s) URL template with {number}")


def visible_facts(country: str | None, number: str, show_unverified: bool) -> dict[str, Any] | None:
    """The facts about `country`'s post a customer may see, with the tracking URL filled in."""
    entry = load_directory().get((country or "").upper())
    if entry is None:
        return None
    facts: dict[str, Any] = {k: None for k in ("operator", "tracking_url", "phone", "contact_form",
                                               "support_url", "claim_url", "who_may_claim", "wait_days")}
    for key, fact in entry.items():
        if key == "carrier" or (fact["confidence"] == "unverified" and not show_unverified):
            continue
        facts[key] = fact["value"]
    if facts["tracking_url"]:
        facts["tracking_url"] = str(facts["tracking_url"]).replace("{number}", number)
    facts["operator"] = facts["operator"] or "your post office"
    return facts
