"""Dates, times and counts as the reader of a message expects them, from CLDR data via Babel.

A French customer reads "27 novembre 2026", an American "November 27, 2026", a German
"27.11.2026, 14:03". The locale is the message's language in the destination country when CLDR
knows that pair (fr + BE -> fr_BE), else the language's most likely region (pt -> pt_BR). Times
that carry an offset are shown in the destination's time zone when all of the country's zones
agree at that moment; otherwise (the United States, Australia...) as the carrier wrote them. Values that are not ISO
dates are shown unchanged: a carrier's own wording is never reinterpreted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.dates import format_date, format_time
from babel.numbers import format_decimal


@dataclass(frozen=True)
class Reader:
    """Who reads a message: the locale for words and numbers, the zone for times."""

    locale: Locale
    zones: tuple[tzinfo, ...]

    def day(self, value: str) -> str:
        """An ISO date or date-time as a long date ("27 novembre 2026"); other text unchanged."""
        moment = _parse(value)
        if moment is None:
            return value
        if isinstance(moment, datetime):
            moment = self._in_zone(moment).date()
        return format_date(moment, "long", locale=self.locale)

    def moment(self, value: str) -> str:
        """An ISO date-time as a medium date and a short time ("Nov 27, 2026, 2:03 PM")."""
        moment = _parse(value)
        if not isinstance(moment, datetime):
            return self.day(value)
        moment = self._in_zone(moment)
        pattern = str(self.locale.datetime_formats["medium"])
        time = format_time(moment, "short", locale=self.locale)
        return pattern.replace("{1}", format_date(moment.date(), "medium", locale=self.locale)).replace("{0}", time)

    def count(self, value: int | float) -> str:
        return format_decimal(value, locale=self.locale)

    def _in_zone(self, moment: datetime) -> datetime:
        if moment.tzinfo is None or not self.zones:
            return moment
        local = [moment.astimezone(zone) for zone in self.zones]
        return local[0] if len({m.utcoffset() for m in local}) == 1 else moment


def reader_for(language: str, country: str | None) -> Reader:
    return Reader(_locale(language, (country or "").upper()), destination_zones(country))


@lru_cache(maxsize=256)
def _locale(language: str, country: str) -> Locale:
    for tag in ([f"{language}_{country}"] if country else []) + [language]:
        try:
            return Locale.parse(tag)
        except (UnknownLocaleError, ValueError):
            continue
    return Locale.parse("en")


@lru_cache(maxsize=256)
def destination_zones(country: str | None) -> tuple[tzinfo, ...]:
    """The country's time zones (CLDR), the ones this machine's zone database knows."""
    zones = []
    for name in get_global("territory_zones").get((country or "").upper(), []):
        try:
            zones.append(ZoneInfo(name))
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return tuple(zones)


def _parse(value: str) -> date | datetime | None:
    text = (value or "").strip()
    if len(text) < 10:
        return None
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        return None
