"""Sender role from the From address alone (display name and Reply-To are ignored).

Parties first (so a distributor's auto-reply is still `distributor`), then machine-generated
mail is `automated`, then people writing as buyers are `customer`; the rest (spam, cold
marketing) is `unknown`.
"""

from __future__ import annotations

from collections.abc import Sequence

from inbox_agent.config import PartiesConfig
from inbox_agent.domain import Role


def party_of(address: str, parties: PartiesConfig) -> Role | None:
    """supplier or distributor when `address` matches an entry ("@domain" is exact-domain)."""
    address = address.lower()
    domain = "@" + address.rsplit("@", 1)[-1] if "@" in address else ""
    for role, entries in ((Role.SUPPLIER, parties.suppliers), (Role.DISTRIBUTOR, parties.distributors)):
        for entry in entries:
            if entry == address or (entry.startswith("@") and entry == domain):
                return role
    return None


def classify_role(
    address: str,
    parties: PartiesConfig,
    automated: bool,
    cold_sender: bool,
    mentions_purchase: Sequence[str],
) -> Role:
    """Role of the sender; `cold_sender` is the lexicon's verdict of unsolicited marketing."""
    party = party_of(address, parties)
    if party is not None:
        return party
    if automated:
        return Role.AUTOMATED
    if cold_sender and not mentions_purchase:
        return Role.UNKNOWN
    return Role.CUSTOMER
