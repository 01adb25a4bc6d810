"""Carrier names and countries as tracking services spell them, mapped to the parse contract's
codes (`usps`, `laposte`, ...) and to ISO 3166-1 alpha-2. Data: rules/carriers/carrier_names.yaml.

Every output of the tracking package goes through here, so `last_mile.carrier` always uses the
same vocabulary as `inbox-agent parse`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import pycountry

from inbox_agent.rules import load_rules_file


@lru_cache(maxsize=1)
def _names() -> dict[str, Any]:
    data = load_rules_file("carriers/carrier_names.yaml") or {}
    return {
        "names": {_key(k): str(v) for k, v in (data.get("names") or {}).items()},
        "keys": {int(k): str(v) for k, v in (data.get("seventeen_track_keys") or {}).items()},
        "posts": {str(k).upper(): str(v) for k, v in (data.get("country_posts") or {}).items()},
        "aliases": {str(k).lower(): str(v).upper() for k, v in (data.get("country_aliases") or {}).items()},
    }


def _key(name: object) -> str:
    return re.sub(r"[\s\-._]", "", str(name)).lower()


def carrier_code(name: object, seventeen_key: object = None) -> str:
    """The contract's code for a carrier name ("La Poste" -> "laposte"); "unknown" if unheard of."""
    data = _names()
    if seventeen_key not in (None, "", 0):
        try:
            found = data["keys"].get(int(str(seventeen_key)))
        except ValueError:
            found = None
        if found:
            return str(found)
    return str(data["names"].get(_key(name or ""), "unknown"))


def country_post(country: str | None) -> str | None:
    """The national post of an ISO country code, when we know it."""
    return _names()["posts"].get((country or "").upper()) if country else None


def post_country(carrier: str) -> str | None:
    """The country whose national post `carrier` is (the first listed, for a post of several)."""
    return next((country for country, post in _names()["posts"].items() if post == carrier), None)


def country_code(value: object) -> str | None:
    """ISO 3166-1 alpha-2 for a code (alpha-2 or alpha-3) or a country name; None when unknown."""
    text = str(value or "").strip()
    if not text:
        return None
    alias = _names()["aliases"].get(text.lower())
    if alias:
        return str(alias)
    try:
        return str(pycountry.countries.lookup(text).alpha_2)
    except LookupError:
        return None
