"""Sender role from the From address alone (display name and Reply-To are ignored).

Parties first (so a distributor's auto-reply is still `distributor`), then machine-generated
mail is `automated`, then people writing as buyers are `customer`; the rest (no-reply addresses
the policy's list of machine senders does not name, spam, cold marketing, invoices and
newsletters from unknown senders: bulk headers such as List-Unsubscribe, or billing wording, with
no word of a purchase; unlisted suppliers, forwarders, platforms and businesses, by a trade
partner's words to the store) is `unknown`.

A party entry is an address, "@domain" (that domain exactly, the corpus policy) or "@.domain"
(that domain and its sub-domains, an explicit opt-in: "@.brightleaf.example" also matches
"news@mail.brightleaf.example").
"""

from __future__ import annotations

from collections.abc import Sequence

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
    mentions_purchase: Sequence[str],
    bulk: bool = False,
    trade_voice: bool = False,
    no_reply: bool = False,
) -> Role:
    """Role of the sender; `cold_sender` is the lexicon's verdict of unsolicited marketing or
    billing, `bulk` that the message carries list or bulk headers, `trade_voice` that it speaks
    to the store as a trade partner or a platform does, with no buyer's words of its own, `no_reply`
    that the address is a no-reply one the policy's list of machine senders does not name."""
    party = party_of(address, parties)
    if party is not None:
        return party
    if automated:
        return Role.AUTOMATED
    if trade_voice or no_reply:
        return Role.UNKNOWN
    if (cold_sender or bulk) and not mentions_purchase:
        return Role.UNKNOWN
    return Role.CUSTOMER
