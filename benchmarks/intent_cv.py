"""The intent reader's grouped cross-validation (whole groups held out) and its dev-corpus figure.

The dev corpus is never training data: it is the test nobody tuned on. Prints the training set's
size, the cross-validated figures of the model (over every text, over the texts without a
context, and over the texts answering one of our replies read with and without their context)
and of the rules, and the dev corpus's intent
accuracy, confident precision and coverage at `--min-confidence`, with the training time, and the
model's precision/coverage curve over a few thresholds, and which intents the model takes for which
(its wrong answers in cross-validation, labelled -> given, with how many were confident).

Usage: python benchmarks/intent_cv.py [CORPUS_DIR] [--min-confidence 0.8] [--folds 5]
"""

from __future__ import annotations

import argparse
import collections
import json
import time
import tomllib
from pathlib import Path

from inbox_agent.config import Config, PartiesConfig, ReadingConfig
from inbox_agent.extract.evaluation import cross_validate
from inbox_agent.extract.fitting import IntentFit
from inbox_agent.extract.intent import shipped_examples
from inbox_agent.reading import read_file

DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "dev"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", nargs="?", default=str(DEFAULT))
    ap.add_argument("--min-confidence", type=float, default=ReadingConfig().min_confidence)
    ap.add_argument("--folds", type=int, default=5)
    a = ap.parse_args()
    examples = shipped_examples()
    languages = collections.Counter(e.language for e in examples)
    print(f"training texts   {len(examples)} in {len({e.group for e in examples})} groups, "
          + ", ".join(f"{k} {v}" for k, v in sorted(languages.items())))
    states = collections.Counter(e.state.value for e in examples if e.state is not None)
    print(f"with a context   {sum(states.values())}: " + ", ".join(f"{k} {v}" for k, v in sorted(states.items())))
    start = time.perf_counter()
    IntentFit().fit(examples)
    print(f"training time    {time.perf_counter() - start:.1f} s (one model over every text)")
    cv = cross_validate(examples, a.min_confidence, folds=a.folds)
    print(f"grouped {cv.folds}-fold cross-validation at min_confidence {a.min_confidence}:")
    print(f"  model          {cv.overall.line()}")
    if cv.stateless is not None:
        print(f"  no context     {cv.stateless.line()}")
    if cv.in_context is not None:
        print(f"  with context   {cv.in_context[0].line()}")
        print(f"    read without {cv.in_context[1].line()}")
    print(f"  rules          {cv.rules.line()}")
    print("  model's precision/coverage curve:")
    for threshold, figures in cv.curve:
        print(f"    at {threshold:.2f}  confident precision {figures.confident_precision:.3f}  "
              f"coverage {figures.coverage:.3f}")
    print("  model's confusions (labelled -> given: wrong answers, of which confident):")
    for c in cv.confusions:
        print(f"    {c.labelled.value:>22} -> {c.given.value:<22} {c.n:4d}  {c.confident:4d}")
    corpus = Path(a.corpus)
    labels = json.loads((corpus / "labels.json").read_text())
    parties = tomllib.loads((corpus / "parties.toml").read_text())["parties"]
    config = Config(parties=PartiesConfig(**parties), reading=ReadingConfig(min_confidence=a.min_confidence))
    got = [(label["intent"], read_file(corpus / label["file"], config)) for label in labels]
    right = sum(want == g.get("intent") for want, g in got)
    confident = [(want, g) for want, g in got if g.get("intent_confident")]
    precision = sum(want == g.get("intent") for want, g in confident) / len(confident) if confident else 0.0
    print(f"dev corpus       intent {right / len(got):.3f}  confident precision {precision:.3f}  "
          f"coverage {len(confident) / len(got):.3f}  ({len(got)} emails, never trained on)")


if __name__ == "__main__":
    main()
