"""The reading bars on the labelled dev corpus, computed by the corpus policy (sets, exact)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from inbox_agent.config import Config, PartiesConfig
from inbox_agent.reading import read_file

BARS = {"intent": 0.95, "sender_role": 0.98, "language": 0.95, "order_f1": 0.98, "tracking_f1": 0.98,
        "carrier": 0.95}


def _f1(tp: int, fp: int, fn: int) -> float:
    if tp == fp == fn == 0:
        return 1.0
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def score(corpus: Path) -> dict[str, float]:
    labels = json.loads((corpus / "labels.json").read_text())
    parties = tomllib.loads((corpus / "parties.toml").read_text())["parties"]
    config = Config(parties=PartiesConfig(**parties))
    hits = {"intent": 0, "sender_role": 0, "language": 0}
    counts = {"order": [0, 0, 0], "tracking": [0, 0, 0]}
    carrier_ok = carrier_n = 0
    for label in labels:
        got = read_file(corpus / label["file"], config)
        for key in hits:
            hits[key] += got.get(key) == label[key]
        for kind, want, have in (
            ("order", set(label["order_numbers"]), set(got.get("order_numbers", []))),
            ("tracking", {t["number"] for t in label["tracking_numbers"]},
             {t["number"] for t in got.get("tracking_numbers", [])}),
        ):
            c = counts[kind]
            c[0] += len(want & have)
            c[1] += len(have - want)
            c[2] += len(want - have)
        found = {t["number"]: t["carrier"] for t in got.get("tracking_numbers", [])}
        for t in label["tracking_numbers"]:
            if t["number"] in found:
                carrier_n += 1
                carrier_ok += found[t["number"]] == t["carrier"]
    n = len(labels)
    return {
        **{k: v / n for k, v in hits.items()},
        "order_f1": _f1(*counts["order"]),
        "tracking_f1": _f1(*counts["tracking"]),
        "carrier": carrier_ok / carrier_n if carrier_n else 1.0,
    }


def test_dev_corpus_meets_every_bar(corpus: Path) -> None:
    figures = score(corpus)
    below = {k: round(v, 3) for k, v in figures.items() if v < BARS[k]}
    assert not below, f"below the bar: {below} (all: {figures})"
