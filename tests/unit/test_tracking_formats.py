"""Every test number of the tracking_number_data files: valid ones detected with their courier,
invalid ones rejected by their format; and the same numbers found in free text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inbox_agent.extract.formats import load_format_book, load_format_file
from inbox_agent.extract.tracking import find_tracking_numbers
from inbox_agent.rules import rules_dir

FILES = sorted((rules_dir() / "carriers" / "tracking_number_data" / "couriers").glob("*.json")) + sorted(
    (rules_dir() / "carriers" / "formats").glob("*.json"))


def _cases(kind: str) -> list[tuple[str, str, str, str]]:
    out = []
    for path in FILES:
        data = json.loads(path.read_text())
        for spec in data["tracking_numbers"]:
            courier = spec.get("courier_code", data["courier_code"])
            for number in spec["test_numbers"][kind]:
                out.append((path.stem, courier, spec["name"], number))
    return out


@pytest.mark.parametrize(("file", "courier", "name", "number"), _cases("valid"))
def test_valid_number_is_detected_with_its_courier(file: str, courier: str, name: str, number: str) -> None:
    book = load_format_book()
    assert courier in {c.format.courier_code for c in book.candidates(number)}
    assert book.identify(number, hint=f"{name} tracking").format.courier_code == courier


@pytest.mark.parametrize(("file", "courier", "name", "number"), _cases("invalid"))
def test_invalid_number_is_rejected_by_its_format(file: str, courier: str, name: str, number: str) -> None:
    path = next(p for p in FILES if p.stem == file)
    fmt = next(f for f in load_format_file(path) if f.name == name)
    assert fmt.validate("".join(number.split()).upper()) is None


@pytest.mark.parametrize(("file", "courier", "name", "number"), _cases("valid"))
def test_valid_number_found_in_a_sentence(file: str, courier: str, name: str, number: str) -> None:
    found = find_tracking_numbers(f"Hello, my {name} tracking number is {number.strip()} thanks")
    assert found, f"{number!r} not found in text"


def test_loader_rejects_a_broken_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"courier_code": "x", "tracking_numbers": [{"name": "x", "regex": "(?<SerialNumber>["}]}')
    from inbox_agent.errors import ConfigError

    with pytest.raises(ConfigError, match="bad.json"):
        load_format_file(bad)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tracking 4px3001847562093cn shows delivered", {("4PX3001847562093CN", "4px")}),
        ("USPS 9400 1118 9922 3334 4455 61", {("9400111899223334445561", "usps")}),
        ("suivi LA 660 193 273 FR", {("LA660193273FR", "laposte")}),
        ("https://t.17track.example/en#nums=UG503188428YP", {("UG503188428YP", "yanwen")}),
        ("EMS EV620471858CN", {("EV620471858CN", "china_ems")}),
        ("call +1 614 555 0188 or order 8187440293165527", set()),
        ("RB123456786US has a wrong check digit", set()),
        # an S10 number is its issuing post's, whatever carrier the words around it name
        ("LX662017356DE\nboth DHL delivered", {("LX662017356DE", "deutsche_post")}),
    ],
)
def test_free_text_numbers(text: str, expected: set[tuple[str, str]]) -> None:
    assert {(f.number, f.carrier) for f in find_tracking_numbers(text)} == expected


def test_numbers_among_thousands_of_spaced_digits_are_found() -> None:
    """A hostile "1 1 1 ..." around real numbers: every window of groups is still tried (each at a
    cost that no longer grows with the window; benchmarks/hostile_text.py prints the CPU time)."""
    noise = "1 " * 3000
    text = f"{noise}tracking LV123456785CN and 9400 1112 0620 6406 2607 87 {noise}"
    assert [f.number for f in find_tracking_numbers(text)] == ["LV123456785CN", "9400111206206406260787"]


SPACED_OUT = "1 " * 100_000  # 200 kB of one digit spaced out
RANDOM_SPACED = " ".join(str((i * 7919) % 10) for i in range(20_000))  # digits that never repeat a stretch


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (SPACED_OUT, []),
        (f"{SPACED_OUT}LV123456785CN", ["LV123456785CN"]),  # a strong format needs no tracking word
        (f"{SPACED_OUT}\nfedex 986578788855", ["986578788855"]),  # a bare digit run after its tracking word
        (f"{SPACED_OUT}\n986578788855", []),  # and not without one
        (f"{RANDOM_SPACED}\nwaybill 3318810036 then 00340434161094042557",
         ["3318810036", "00340434161094042557"]),
        ("9-4-0-0 1112 0620 6406 2607 87 tracking", ["9400111206206406260787"]),
    ],
)
def test_hostile_spaced_digits_keep_the_numbers_and_add_none(text: str, expected: list[str]) -> None:
    """A stretch of groups with no number in it is read once however often it repeats, and a start
    where no strong format can begin is left at once unless a tracking word stands before it;
    neither drops a real number (benchmarks/hostile_text.py prints the CPU time)."""
    assert [f.number for f in find_tracking_numbers(text)] == expected


def test_a_number_whose_check_digit_holds_is_not_stretched_over_the_next_word() -> None:
    """A format without a check digit accepts "UV925288503NLWE" (the S10 number and the word "we"):
    the shorter window whose check digit holds is the number."""
    found = find_tracking_numbers("Old tracking UV 925 288 503 NL we will claim with logistic")
    assert [(t.number, t.carrier) for t in found] == [("UV925288503NL", "postnl")]
