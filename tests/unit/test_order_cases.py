"""Order numbers in the mail of other stores' inboxes, in seven languages, per the labelling
policy: every case of tests/data/order_cases_stores.yaml read from a real MIME message. The set
is scored as a whole by benchmarks/order_cases.py (precision, recall, F1, held-out third apart).

The first four batches are read right case by case. The fifth to twelfth (several stores each,
written by outside authors, "-b5-" to "-b12-" in their ids) keep wording no rule reads yet (a bare
"for 3899", a number before its order word) and labels that contradict each other (the eighth
batch's store sells on Amazon and eBay and counts their order numbers, the ninth's and tenth's
authors count them as no orders): each is held to the F1 its tuning part and its held-out third
reached, so that no held-out case is ever listed."""

from __future__ import annotations

import pytest

from tests.support.order_cases import OrderCase, load_cases, read_case, score

CASES = load_cases()
# each outside batch's id mark, and the F1 its tuning part and its held-out third are held to
OUTSIDE_FIGURES = {
    "-b5-": (0.98, 0.96),  # reached 0.985 and 0.963 (blind on arrival: 0.834 and 0.861)
    "-b6-": (0.99, 0.99),  # reached 1.000 and 1.000 (blind on arrival: 0.948 and 0.976)
    "-b7-": (0.98, 0.96),  # reached 0.988 and 0.964 (blind on arrival: 0.737 and 0.830)
    "-b8-": (0.97, 0.99),  # reached 0.973 and 1.000 (blind on arrival: 0.782 and 0.876)
    "-b9-": (0.97, 0.97),  # reached 0.979 and 0.974 (blind on arrival: 0.927 and 0.932)
    "-b10-": (0.97, 0.99),  # reached 0.973 and 0.992 (blind on arrival: 0.794 and 0.891)
    "-b11-": (0.99, 0.94),  # reached 1.000 and 0.945 (blind on arrival: 0.937 and 0.945)
    "-b12-": (0.95, 0.93),  # reached 0.958 and 0.937 (blind on arrival: 0.915 and 0.871)
}
EARLIER = [c for c in CASES if not any(mark in c.id for mark in OUTSIDE_FIGURES)]


def test_the_cases_cover_seven_languages_and_distractors() -> None:
    languages = {c.id.split("-")[0] for c in CASES}
    assert {"en", "fr", "de", "es", "it", "nl", "pt"} <= languages
    assert len(CASES) >= 120
    assert sum(not c.orders for c in CASES) >= 30  # cases holding only numbers that are not orders
    assert all(sum(mark in c.id for c in CASES) >= 200 for mark in OUTSIDE_FIGURES)


@pytest.mark.parametrize("case", EARLIER, ids=[c.id for c in EARLIER])
def test_order_numbers_of_other_stores(case: OrderCase) -> None:
    assert set(read_case(case)) == case.orders


@pytest.mark.parametrize("mark", list(OUTSIDE_FIGURES))
def test_each_outside_batch_keeps_its_figures(mark: str) -> None:
    tuning_f1, held_out_f1 = OUTSIDE_FIGURES[mark]
    results = [(c, read_case(c)) for c in CASES if mark in c.id]
    assert score([r for r in results if not r[0].held_out]).f1 >= tuning_f1
    assert score([r for r in results if r[0].held_out]).f1 >= held_out_f1
