"""The post-office directory (rules/post_offices.yaml): facts with their source and confidence.

`visible_facts()` gives what may be shown to a customer: facts tagged `unverified` are left out
unless the store opted in. A store adds or overrides entries, fact by fact, in its own file of
the same shape (`[kit] directory_overrides`). Loading rejects an entry without a source, with an
unknown confidence, with a URL that is not http(s), or with a tracking URL template that lacks
`{number}` or uses a placeholder we cannot fill.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from inbox_agent.errors import ConfigError
from inbox_agent.rules import load_rules_file

CONFIDENCE = ("official", "secondary", "weak", "unverified")
WHO_MAY_CLAIM = ("recipient", "sender", "both")
FACTS = ("operator", "tracking_url", "phone", "phone_international", "email", "contact_form", "support_url",
         "claim_url", "who_may_claim", "wait_days", "languages")
_URL_FACTS = ("tracking_url", "contact_form", "support_url", "claim_url")
_PLACEHOLDER = re.compile(r"\{([^}]*)\}")
_PLACEHOLDERS = {"number", "country", "postcode"}


def load_directory(name: str = "post_offices.yaml", overrides: str | None = None) -> dict[str, dict[str, Any]]:
    """Our directory merged with the store's overrides (fact by fact); ConfigError on a bad entry."""
    return _load(name, overrides)


@lru_cache(maxsize=8)
def _load(name: str, overrides: str | None) -> dict[str, dict[str, Any]]:
    data = dict(load_rules_file(name) or {})
    for country, entry in data.items():
        validate_entry(f"rules/{name}", country, entry)
    if overrides:
        try:
            extra = yaml.safe_load(Path(overrides).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as e:
            raise ConfigError(overrides, "", f"cannot be read as YAML ({e})") from None
        if not isinstance(extra, dict):
            raise ConfigError(overrides, "", "expected a mapping of country codes to entries")
        for country, entry in extra.items():
            validate_entry(overrides, str(country), entry)
            data[str(country).upper()] = {**data.get(str(country).upper(), {}), **entry}
    return data


def validate_entry(source: str, country: str, entry: Any) -> None:
    if not re.fullmatch(r"[A-Z]{2}", str(country)):
        raise ConfigError(source, str(country), "a country is an ISO 3166-1 alpha-2 code such as FR")
    if not isinstance(entry, dict):
        raise ConfigError(source, country, "expected a mapping of facts")
    for key, fact in entry.items():
        if key == "carrier":
            continue
        where = f"{country}.{key}"
        if key not in FACTS:
            raise ConfigError(source, where, f"unknown fact; expected one of {', '.join(FACTS)}")
        if not isinstance(fact, dict) or "value" not in fact:
            raise ConfigError(source, where, "expected {value, source, confidence}")
        if not fact.get("source"):
            raise ConfigError(source, where, "a fact needs its source")
        if fact.get("confidence") not in CONFIDENCE:
            raise ConfigError(source, where, f"confidence must be one of {', '.join(CONFIDENCE)}")
        if key in _URL_FACTS:
            _check_url(source, where, str(fact["value"]), template=key == "tracking_url")
        if key == "who_may_claim" and fact["value"] not in WHO_MAY_CLAIM:
            raise ConfigError(source, where, f"one of {', '.join(WHO_MAY_CLAIM)}")


def _check_url(source: str, where: str, url: str, template: bool) -> None:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or any(c.isspace() for c in url):
        raise ConfigError(source, where, "an http(s) URL without spaces")
    names = set(_PLACEHOLDER.findall(url))
    if template and "number" not in names:
        raise ConfigError(source, where, "a tracking URL template holding {number}")
    if names - (_PLACEHOLDERS if template else set()):
        raise ConfigError(source, where, f"unknown placeholder(s) {sorted(names - _PLACEHOLDERS)}")


def tracking_link(template: str, number: str, country: str = "", postcode: str = "") -> str:
    """A tracking URL template filled in; an unknown postcode drops its segment."""
    url = template.replace("{number}", number).replace("{country}", country)
    return url.replace("-{postcode}", f"-{postcode}" if postcode else "").replace("{postcode}", postcode)


def visible_facts(country: str | None, number: str, show_unverified: bool,
                  overrides: str | None = None) -> dict[str, Any] | None:
    """The facts about `country`'s post a customer may see, with the tracking URL filled in.

    `sender_only` is true when only the sender (the store) may open an investigation: the kit
    then says the store will do it, and the playbook knows it.
    """
    code = (country or "").upper()
    entry = load_directory(overrides=overrides).get(code)
    if entry is None:
        return None
    facts: dict[str, Any] = dict.fromkeys(FACTS)
    for key, fact in entry.items():
        if key == "carrier" or (fact["confidence"] == "unverified" and not show_unverified):
            continue
        facts[key] = fact["value"]
    if facts["tracking_url"]:
        facts["tracking_url"] = tracking_link(str(facts["tracking_url"]), number, code)
    facts["operator"] = facts["operator"] or "your post office"
    facts["country"] = code
    facts["carrier"] = entry.get("carrier")
    facts["sender_only"] = facts["who_may_claim"] == "sender"
    return facts


def public_tracking_url(number: str) -> str:
    """A public page that tracks `number`: its courier's (tracking_number_data), else the post of
    its S10 country from the directory, else 17TRACK's, which tracks almost anything."""
    from inbox_agent.extract.formats import load_format_book

    identified = load_format_book().identify(number)
    if identified is not None and identified.format.tracking_url:
        return identified.format.tracking_url.replace("%s", identified.number)
    if identified is not None and identified.format.id == "s10":
        post = visible_facts(identified.number[-2:], identified.number, False)
        if post and post["tracking_url"]:
            return str(post["tracking_url"])
    return f"https://t.17track.net/en#nums={number}"
