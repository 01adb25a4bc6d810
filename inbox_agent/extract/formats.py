"""Tracking-number formats loaded from files in the tracking_number_data JSON schema.

A `NumberFormat` full-matches one whitespace-free, upper-case candidate and validates it (check
digit, `prepend_if`, `additional.exists`). The carrier code comes from `rules/carriers/carriers.yaml`;
for S10 it is the post of the suffix country. Formats are checked in a fixed order (strong, with
check digit, before weak), and the first valid one names the carrier.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from inbox_agent.errors import ConfigError
from inbox_agent.extract.checksums import ALGORITHMS
from inbox_agent.extract.prefilter import PatternFilter
from inbox_agent.rules import load_rules_file, rules_dir

_S10 = "s10"  # the UPU S10 format's id: its carrier is the operator its country suffix names
_PCRE_GROUP = re.compile(r"\(\?<(?![=!])")
_ALL_IN_ONE_SET = 1_000  # more than any format book holds


@dataclass(frozen=True)
class Lookup:
    group: str
    name: str
    entries: tuple[tuple[str, str | None, str | None], ...]

    def find(self, value: str) -> str | None:
        for matches, matches_regex, label in self.entries:
            if (matches is not None and value == matches) or (
                matches_regex is not None and re.search(matches_regex, value)
            ):
                return label or value
        return None


@dataclass(frozen=True)
class NumberFormat:
    """One format of one courier."""

    id: str
    name: str
    courier_code: str
    pattern: re.Pattern[str]
    checksum: Mapping[str, Any] | None
    prepend_if: Mapping[str, str] | None
    required_lookups: tuple[str, ...]
    lookups: tuple[Lookup, ...]
    tracking_url: str | None
    strong: bool
    source: str

    def validate(self, candidate: str) -> re.Match[str] | None:
        """The match when `candidate` (upper case, no spaces) is a valid number of this format."""
        m = self.pattern.fullmatch(candidate)
        if m is None:
            return None
        groups = {k: _unblanked(v) for k, v in m.groupdict().items() if v is not None}
        if self.checksum is not None:
            serial = groups.get("SerialNumber", "")
            if self.prepend_if and re.search(self.prepend_if["matches_regex"], serial):
                serial = self.prepend_if["content"] + serial
            algorithm = ALGORITHMS.get(str(self.checksum.get("name")))
            if algorithm is None or not algorithm(serial, groups.get("CheckDigit", ""), self.checksum):
                return None
        for required in self.required_lookups:
            lookup = next((lk for lk in self.lookups if lk.name == required), None)
            if lookup is None or lookup.find(groups.get(lookup.group, "")) is None:
                return None
        return m

    def group(self, match: re.Match[str], name: str) -> str:
        value = match.groupdict().get(name)
        return _unblanked(value) if value else ""

    def trackable(self, match: re.Match[str]) -> str:
        """The number as carriers track it: the USPS `420`+ZIP routing prefix removed."""
        whole = match.group(0)
        start = match.start("SerialNumber") if "SerialNumber" in match.groupdict() else 0
        if self.group(match, "RoutingApplicationId") and start > 0:
            return whole[start:]
        return whole


@dataclass(frozen=True)
class Identified:
    number: str
    carrier: str
    format: NumberFormat


@dataclass(frozen=True)
class FormatBook:
    formats: tuple[NumberFormat, ...]
    carriers: Mapping[str, str]
    s10_countries: Mapping[str, str]
    s10_services: tuple[tuple[str, re.Pattern[str], str], ...]
    prefilter: PatternFilter | None = None
    origin_carriers: frozenset[str] = frozenset()  # first-mile carriers out of China (carriers.yaml)
    strong_starts: PatternFilter | None = None  # the strong formats, matched at a text's start

    def strong_may_start(self, text: str) -> bool:
        """Whether a strong format may accept some start of `text` (as `candidates` reads it: upper
        case, without blanks, with or without its dashes). False is sure; True is only maybe."""
        if self.strong_starts is None:
            return True
        return self.strong_starts.may_match(text) or ("-" in text and self.strong_starts.may_match(text.replace("-", "")))

    def candidates(self, text: str) -> list[Identified]:
        """Every format that accepts the number as written (spaces, dashes and case tolerated),
        best first: strong formats, then formats with a check digit, then the rest."""
        compact = _unblanked(text).upper()
        forms = dict.fromkeys((compact, compact.replace("-", "")))
        possible = {form: self._possible(form) for form in forms}
        found: list[Identified] = []
        for index in sorted(set().union(*possible.values())):
            fmt = self.formats[index]
            for form in forms:
                m = fmt.validate(form) if index in possible[form] else None
                if m is not None:
                    found.append(Identified(fmt.trackable(m).replace("-", ""), self.carrier_of(fmt, m), fmt))
                    break
        return found

    def _possible(self, form: str) -> set[int]:
        """Indices of the formats whose pattern may match `form` (all of them without a filter)."""
        if self.prefilter is None:
            return set(range(len(self.formats)))
        return set(self.prefilter.candidates(form))

    def identify(self, text: str, hint: str = "") -> Identified | None:
        """The best format for one number; `hint` (words written near it) breaks ties between
        couriers whose formats overlap, e.g. "Purolator 287809468872" versus FedEx 12 digits."""
        found = self.candidates(text)
        return self.choose(found, hint) if found else None

    def choose(self, found: list[Identified], hint: str) -> Identified:
        """The best of several formats accepting one number (non-empty `found`, best first):
        the first whose courier is named in `hint`, else the first. A UPU S10 number is its
        issuing post's whatever the words around it ("LX662017356DE ... DHL delivered" is
        Deutsche Post's): its suffix names the operator."""
        if found[0].format.id == _S10:
            return found[0]
        if hint and len(found) > 1:
            lowered = hint.lower()
            for item in found:
                names = (item.carrier, item.format.courier_code, item.format.name.split(" (")[0])
                if any(n and n.replace("_", " ").lower() in lowered for n in names):
                    return item
        return found[0]

    def carrier_of(self, fmt: NumberFormat, match: re.Match[str]) -> str:
        if fmt.id == _S10:
            country = fmt.group(match, "CountryCode")
            service = fmt.group(match, "ServiceType")
            for c, pattern, carrier in self.s10_services:
                if c == country and pattern.search(service):
                    return carrier
            return self.s10_countries.get(country, "unknown")
        return self.carriers.get(fmt.id) or self.carriers.get(fmt.courier_code) or fmt.courier_code


@lru_cache(maxsize=4)
def load_format_book(base: Path | None = None) -> FormatBook:
    """Load carriers.yaml and every format file it names; ConfigError names a broken file."""
    root = (base or rules_dir()) / "carriers"
    meta = load_rules_file("carriers/carriers.yaml") if base is None else _yaml(root / "carriers.yaml")
    strong = set(meta.get("strong_formats", []))
    formats: list[NumberFormat] = []
    for folder in meta.get("format_dirs", []):
        for path in sorted((root / folder).glob("*.json")):
            formats.extend(load_format_file(path, strong))
    formats.sort(key=lambda f: (not f.strong, f.checksum is None))
    services = tuple(
        (s["country"], re.compile(s["service"]), s["carrier"]) for s in meta.get("s10_services", [])
    )
    # one RE2 set each: a candidate is short (at most a few dozen characters), so a DFA over all
    # the formats stays small, and one pass over a candidate costs what one of a dozen did
    prefilter = PatternFilter([f.pattern for f in formats], whole=True, lowered=False, per_set=_ALL_IN_ONE_SET)
    strong_starts = PatternFilter([f.pattern for f in formats if f.strong], start=True, lowered=False,
                                  per_set=_ALL_IN_ONE_SET)
    return FormatBook(tuple(formats), meta.get("carriers", {}), meta.get("s10_countries", {}), services, prefilter,
                      frozenset(meta.get("origin_carriers", [])), strong_starts)


def load_format_file(path: Path, strong: set[str] | None = None) -> list[NumberFormat]:
    """Parse one courier file of the tracking_number_data schema."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [_format(spec, data, str(path), strong or set()) for spec in data["tracking_numbers"]]
    except (OSError, ValueError, KeyError, TypeError, re.error) as e:
        raise ConfigError(str(path), "tracking_numbers", f"not a valid courier format file ({e})") from None


def _format(spec: dict[str, Any], courier: dict[str, Any], source: str, strong: set[str]) -> NumberFormat:
    regex = spec["regex"]
    if isinstance(regex, list):
        regex = "".join(regex)
    fid = spec.get("id") or re.sub(r"[^a-z0-9]+", "-", spec["name"].lower()).strip("-")
    validation = spec.get("validation") or {}
    lookups = tuple(
        Lookup(
            a["regex_group_name"],
            a["name"],
            tuple((e.get("matches"), e.get("matches_regex"), e.get("courier") or e.get("name"))
                  for e in a["lookup"]),
        )
        for a in spec.get("additional") or []
    )
    prepend = (validation.get("serial_number_format") or {}).get("prepend_if")
    return NumberFormat(
        id=fid,
        name=spec["name"],
        courier_code=spec.get("courier_code") or courier["courier_code"],
        pattern=re.compile(_PCRE_GROUP.sub("(?P<", regex)),
        checksum=validation.get("checksum"),
        prepend_if=prepend,
        required_lookups=tuple((validation.get("additional") or {}).get("exists", [])),
        lookups=lookups,
        tracking_url=spec.get("tracking_url"),
        strong=fid in strong,
        source=source,
    )


def _unblanked(text: str) -> str:
    """`text` without its blanks: what `re.sub(r"\\s", "", text)` gives (str.split and the regex
    \\s know the same whitespace), a few times faster on the short candidates read here."""
    return "".join(text.split())


def _yaml(path: Path) -> Any:
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8"))
