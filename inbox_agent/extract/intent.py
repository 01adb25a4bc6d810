"""The one intent of a message, by the corpus policy's order of rules.

1. machine-generated -> auto_reply (overrides everything);
2. a distributor that states a last-mile (destination) tracking number in its newest text or
   subject -> last_mile_tracking (numbers of carriers out of China are first-mile ones);
3. a supplier -> the best supplier intent;
4. anyone else -> the best customer intent;
otherwise `other`. Only the newest text and the subject are read; the subject counts half when
it is a reply or forward, since it then names the old topic.
"""

from __future__ import annotations

from inbox_agent.domain import CUSTOMER_INTENTS, SUPPLIER_INTENTS, Intent, Role
from inbox_agent.extract.lexicon import score

_MIN_SCORE = 2.0


def classify_intent(
    role: Role,
    automated: bool,
    new_text: str,
    subject: str,
    subject_is_reply: bool,
    new_last_mile: bool,
) -> tuple[Intent, list[str]]:
    """Return the intent and the reasons that decided it."""
    if automated:
        return Intent.AUTO_REPLY, ["machine-generated message"]
    (body_scores, why), (subject_scores, subject_why) = score(
        [(new_text, 1.0), (subject, 0.5 if subject_is_reply else 1.0)]
    )
    for intent, value in subject_scores.items():
        body_scores[intent] = body_scores.get(intent, 0.0) + value
    why += [f"subject {w}" for w in subject_why]
    if role is Role.DISTRIBUTOR:
        if new_last_mile:
            return Intent.LAST_MILE_TRACKING, [*why, "distributor states a last-mile tracking number"]
        return Intent.OTHER, why
    allowed = SUPPLIER_INTENTS if role is Role.SUPPLIER else CUSTOMER_INTENTS
    candidates = {i: v for i, v in body_scores.items() if i in allowed or i is Intent.OTHER}
    if not candidates:
        return Intent.OTHER, why
    best = max(candidates, key=lambda i: (candidates[i], _priority(i)))
    if candidates[best] < _MIN_SCORE:
        return Intent.OTHER, why
    return best, why


def _priority(intent: Intent) -> int:
    """Tie-break: a granted refund beats a reship offer, a claim beats a question."""
    order = [
        Intent.SUPPLIER_REFUND,
        Intent.SUPPLIER_RESHIP,
        Intent.SUPPLIER_DECLINED,
        Intent.SUPPLIER_INFO_REQUEST,
        Intent.DELIVERED_NOT_RECEIVED,
        Intent.RECEIVED,
        Intent.WHERE_IS_MY_ORDER,
        Intent.OTHER,
    ]
    return len(order) - order.index(intent) if intent in order else 0
