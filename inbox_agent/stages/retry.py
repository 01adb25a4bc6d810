"""How each stage retries a failed item: one `Retry` value per stage, every default named here.

A store overrides any of them per stage in `[retry.<stage>]`. Between tries an item waits
`backoff_seconds`, doubled each time up to `max_backoff_seconds`; an item that fails `attempts`
times for an unexpected reason is set aside for people. A server away is waited for however long
it takes, or, when `give_up_hours` is set, that long from the item's first such failure before it
is set aside (stages/queue.py). The track stage also reads `attempts` as how long to wait for the
tracking providers before going on with their error.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from inbox_agent.config import Config


@dataclass(frozen=True)
class Retry:
    attempts: int
    backoff_seconds: float
    max_backoff_seconds: float
    give_up_hours: float | None = None

    def delay(self, attempt: int) -> timedelta:
        """The wait after the `attempt`-th failed try (1-based)."""
        return timedelta(seconds=min(self.backoff_seconds * 2 ** max(attempt - 1, 0), self.max_backoff_seconds))


DEFAULTS: dict[str, Retry] = {
    # an event the playbook cannot apply: a bug or bad data, so few tries close together
    "process": Retry(attempts=3, backoff_seconds=1, max_backoff_seconds=60),
    # no tracking provider answered: wait for them (1, 2, 4, 8, 16 minutes), then go on with the error
    "track": Retry(attempts=6, backoff_seconds=60, max_backoff_seconds=3600),
    # the mailbox is away, or a draft or note could not be prepared
    "draft": Retry(attempts=5, backoff_seconds=5, max_backoff_seconds=600),
    # SMTP 4xx, timeouts and unreachable servers: tried for a day, then FAILED (stages/send.py)
    "send": Retry(attempts=3, backoff_seconds=30, max_backoff_seconds=900, give_up_hours=24),
    # no order source answered: ask again (1, 2, 4, 8, 16 minutes), then a person takes over
    "orders": Retry(attempts=6, backoff_seconds=60, max_backoff_seconds=3600),
    # a due timer whose event could not be queued (its case changed meanwhile, or a bug)
    "timers": Retry(attempts=3, backoff_seconds=1, max_backoff_seconds=60),
}


def retry_for(config: Config, stage: str) -> Retry:
    """The stage's default with the store's `[retry.<stage>]` values laid over it."""
    override = getattr(config.retry, stage, None)
    if override is None:
        return DEFAULTS[stage]
    return replace(DEFAULTS[stage], **override.model_dump(exclude_none=True))
