"""Sender role from the From address alone (display name and Reply-To are ignored).

Parties first (so a distributor's auto-reply is still `distributor`), then machine-generated
mail is `automated`, then people writing as buyers are `customer`; the rest (spam, cold
marketing, invoices and newsletters from unknown senders: bulk headers such as List-Unsubscribe,
or billing wording, with no word of a purchase) is `unknown`.

A party entry is an address, "@domain" (that domain exactly, the corpus policy) or "@.domain"
(that domain and its sub-domains, an explicit opt-in: "@.brightleaf.example" also matches
"news@mail.brightleaf.example").
"""

from __future__ import annotations

from inbox_agent.config import PartiesConfig
from inbox_agent.domain import Role


def party_of(address: str, parties: PartiesConfig) -> Role | None:
    """supplier or distributor when `address` matches an entry ("@domain" is exact-domain,
    "@.domain" also takes sub-domains)."""
    address = address.lower()
    domain = "@" + address.rsplit("@", 1)[-1] if "@" in address else ""
    for role, entries in ((Role.SUPPLIER, parties.suppliers), (Role.DISTRIBUTOR, parties.distributors)):
        for entry in entries:
            if entry == address or (entry.startswith("@") and entry == domain):
                return role
            if entry.startswith("@.") and domain and (domain == "@" + entry[2:] or domain.endswith(entry[1:])):
                return role
    return None


def classify_role(
    address: str,
    parties: PartiesConfig,
    automated: bool,
    cold_sender: bool,
    mentions_purchase: bool,
    bulk: bool = False,
) -> Role:
    """Role of the sender; `cold_sender` is the lexicon's verdict of unsolicited marketing or
    billing, `bulk` that the message carries list or bulk headers."""
    party = party_of(address, parties)
    if party is not None:
        return party
    if automated:
        return Role.AUTOMATED
    if (cold_sender or bulk) and not mentions_purchase:
        return Role.UNKNOWN
    return Role.CUSTOMER
