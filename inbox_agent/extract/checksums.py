"""Check-digit algorithms of the tracking_number_data schema, by their names in that schema.

Each function takes the serial (whitespace removed, after any `prepend_if`), the check digit or
character, and the constants the schema gives, and says whether the check digit is right.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Checksum = Callable[[str, str, Mapping[str, Any]], bool]


def _value(ch: str) -> int:
    return int(ch) if ch.isdigit() else (ord(ch) - 3) % 10


def mod10(serial: str, check: str, p: Mapping[str, Any]) -> bool:
    chars = serial[::-1] if p.get("reverse") else serial
    total = 0
    for i, ch in enumerate(chars):
        x = _value(ch)
        if i % 2:
            x *= int(p.get("odds_multiplier", 1))
        else:
            x *= int(p.get("evens_multiplier", 1))
        total += x
    expected = total % int(p.get("modulo", 10))
    if expected:
        expected = 10 - expected
    return check.isdigit() and expected == int(check)


def mod7(serial: str, check: str, p: Mapping[str, Any]) -> bool:
    return serial.isdigit() and check.isdigit() and int(serial) % int(p.get("modulo", 7)) == int(check)


def s10(serial: str, check: str, p: Mapping[str, Any]) -> bool:
    weights = p.get("weightings", [8, 6, 4, 2, 3, 5, 9, 7])
    if not serial.isdigit() or not check.isdigit():
        return False
    r = sum(int(d) * w for d, w in zip(serial, weights, strict=False)) % int(p.get("modulo", 11))
    expected = 0 if r == 1 else 5 if r == 0 else 11 - r
    return expected == int(check)


def sum_product(serial: str, check: str, p: Mapping[str, Any]) -> bool:
    if not serial.isdigit() or not check.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(serial, p["weightings"], strict=False))
    return total % int(p["modulo1"]) % int(p["modulo2"]) == int(check)


def luhn(serial: str, check: str, p: Mapping[str, Any]) -> bool:
    if not serial.isdigit() or not check.isdigit():
        return False
    total = 0
    for i, d in enumerate(int(c) for c in serial[::-1]):
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10 == int(check)


def mod_37_36(serial: str, check: str, p: Mapping[str, Any]) -> bool:
    alphabet = str(p.get("alphabet", "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    cd = 36
    for ch in serial:
        if ch not in alphabet:
            return False
        cd += alphabet.index(ch)
        if cd > 36:
            cd -= 36
        cd *= 2
        if cd > 36:
            cd -= 37
    result = 37 - cd
    if result == 36:
        result = 0
    return alphabet[result] == check


ALGORITHMS: dict[str, Checksum] = {
    "mod10": mod10,
    "mod7": mod7,
    "s10": s10,
    "sum_product_with_weightings_and_modulo": sum_product,
    "luhn": luhn,
    "mod_37_36": mod_37_36,
}
