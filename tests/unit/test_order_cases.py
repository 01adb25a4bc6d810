"""Order numbers in the mail of other stores' inboxes, in seven languages, per the labelling
policy: every case of tests/data/order_cases_stores.yaml read from a real MIME message. The set
is scored as a whole by benchmarks/order_cases.py (precision, recall, F1, held-out third apart).

The first four batches are read right case by case. The fifth (six stores written by an outside
author, "-b5-" in their ids) keeps wording no rule reads yet (a bare "for 3899", a number before
its order word): it is held to the F1 its tuning part and its held-out third reached."""

from __future__ import annotations

import pytest

from tests.support.order_cases import OrderCase, load_cases, read_case, score

CASES = load_cases()
OUTSIDE_BATCH = "-b5-"
OUTSIDE_TUNING_F1 = 0.98  # reached 0.982 (blind on arrival: 0.834)
OUTSIDE_HELD_OUT_F1 = 0.93  # reached 0.938 (blind on arrival: 0.861)
EARLIER = [c for c in CASES if OUTSIDE_BATCH not in c.id]
OUTSIDE = [c for c in CASES if OUTSIDE_BATCH in c.id]


def test_the_cases_cover_seven_languages_and_distractors() -> None:
    languages = {c.id.split("-")[0] for c in CASES}
    assert {"en", "fr", "de", "es", "it", "nl", "pt"} <= languages
    assert len(CASES) >= 120
    assert sum(not c.orders for c in CASES) >= 30  # cases holding only numbers that are not orders
    assert len(OUTSIDE) >= 200


@pytest.mark.parametrize("case", EARLIER, ids=[c.id for c in EARLIER])
def test_order_numbers_of_other_stores(case: OrderCase) -> None:
    assert set(read_case(case)) == case.orders


def test_the_outside_batch_keeps_its_figures() -> None:
    results = [(c, read_case(c)) for c in OUTSIDE]
    assert score([r for r in results if not r[0].held_out]).f1 >= OUTSIDE_TUNING_F1
    assert score([r for r in results if r[0].held_out]).f1 >= OUTSIDE_HELD_OUT_F1
