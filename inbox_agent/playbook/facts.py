"""The facts a playbook rule's conditions compare: one typed value per condition."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Facts(BaseModel):
    """The facts the playbook's conditions read (playbook/engine.py CONDITIONS, besides the event
    and the state). An event carries the ones it knows; the process stage adds the message's and
    the case's. A fact nobody set is None, and a rule asking for it does not match. Frozen, so
    `decide()` cannot change what it is given."""

    model_config = ConfigDict(frozen=True)

    intent: str | None = None
    role: str | None = None
    automated: bool | None = None
    bulk: bool | None = None
    bounce: bool | None = None
    has_tracking: bool | None = None
    has_order: bool | None = None
    has_new_tracking: bool | None = None
    tracking_delivered: bool | None = None
    tracking_failed: bool | None = None
    last_mile_known: bool | None = None
    last_mile_trackable: bool | None = None
    sender_only: bool | None = None
    template: str | None = None
    party: str | None = None
    timer: str | None = None
    count: int | None = None
    ack: bool | None = None
    order_source: bool | None = None
    order: str | None = None
    order_fulfilled: bool | None = None
    thread: str | None = None

    def merged(self, other: Facts) -> Facts:
        """These facts with the ones `other` sets (the case's over the event's)."""
        return self.model_copy(update={name: getattr(other, name) for name in other.model_fields_set})

    def to_json(self) -> dict[str, Any]:
        """The facts that were set, as an event's payload carries them."""
        return self.model_dump(mode="json", exclude_unset=True)
