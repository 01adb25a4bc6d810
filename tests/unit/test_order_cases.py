"""Order numbers in the mail of other stores' inboxes, in seven languages, per the labelling
policy: every case of tests/data/order_cases_stores.yaml read from a real MIME message. The set
is scored as a whole by benchmarks/order_cases.py (precision, recall, F1, held-out third apart)."""

from __future__ import annotations

import pytest

from tests.support.order_cases import OrderCase, load_cases, read_case

CASES = load_cases()


def test_the_cases_cover_seven_languages_and_distractors() -> None:
    languages = {c.id.split("-")[0] for c in CASES}
    assert {"en", "fr", "de", "es", "it", "nl", "pt"} <= languages
    assert len(CASES) >= 120
    assert sum(not c.orders for c in CASES) >= 30  # cases holding only numbers that are not orders


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_order_numbers_of_other_stores(case: OrderCase) -> None:
    assert set(read_case(case)) == case.orders
