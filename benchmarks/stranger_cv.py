"""The customer-or-stranger reader's grouped cross-validation (whole groups held out).

Over the shipped training texts of customers and of unknown senders, prints how many strangers
the reader finds and how many buyers it takes for strangers at `STRANGER_PROBABILITY`, and at a
few other thresholds. A buyer taken for a stranger goes unanswered to Needs attention, so that
count is the one to keep near zero.

Usage: python benchmarks/stranger_cv.py [--folds 5]
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.model_selection import GroupKFold

from inbox_agent.domain import Role
from inbox_agent.extract.fitting import StrangerFit
from inbox_agent.extract.intent import shipped_examples
from inbox_agent.extract.stranger import STRANGER_PROBABILITY

THRESHOLDS = (0.5, STRANGER_PROBABILITY, 0.8, 0.9)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=5)
    a = ap.parse_args()
    people = [e for e in shipped_examples() if e.role in (Role.CUSTOMER, Role.UNKNOWN)]
    strangers = np.array([e.role is Role.UNKNOWN for e in people])
    groups = [e.group for e in people]
    held_out = np.zeros(len(people))
    for train, test in GroupKFold(n_splits=a.folds).split(people, strangers, groups):
        fit = StrangerFit().fit([people[i] for i in train])
        held_out[test] = fit.probabilities([(people[i].subject, people[i].text) for i in test])
    print(f"{len(people)} texts ({int(strangers.sum())} strangers, {int((~strangers).sum())} buyers), "
          f"{len(set(groups))} groups, {a.folds} grouped folds")
    for threshold in THRESHOLDS:
        said = held_out >= threshold
        found, wrong = int((said & strangers).sum()), int((said & ~strangers).sum())
        mark = "  <- the daemon's threshold" if threshold == STRANGER_PROBABILITY else ""
        print(f"at {threshold:.2f}: strangers found {found}/{int(strangers.sum())} "
              f"({found / strangers.sum():.0%}), buyers taken for strangers {wrong}/{int((~strangers).sum())}{mark}")


if __name__ == "__main__":
    main()
