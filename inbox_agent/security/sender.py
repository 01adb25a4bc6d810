"""Is the sender who the From address says? Aligned DKIM or DMARC, from the receiving server's
Authentication-Results (only its own, `[security] trusted_authserv_id`) or from our own DKIM check.

Anyone can write any From address, any display name and any Authentication-Results header; only
the topmost Authentication-Results carrying our server's authserv-id counts (the server strips
look-alikes it received). Where that header is absent, DKIM signatures are verified with dkimpy.
A signature counts only when its domain is aligned with the From domain (the same domain, or
one a subdomain of the other).
"""

from __future__ import annotations

import email.policy
from dataclasses import dataclass
from email.parser import BytesHeaderParser

import authres
import dkim
import dkim.util

from inbox_agent.security.dns import TxtResolver

MAX_SIGNATURES = 5  # a message carrying more is not worth more DNS lookups


@dataclass(frozen=True)
class SenderCheck:
    """The verdict and how it was reached, for the decision log and for people."""

    proven: bool
    how: str
    refuted: bool = False  # our server says DMARC fails for this From domain: forged, even in our thread


def check_sender(raw: bytes, from_address: str, trusted_authserv_id: str, verify_dkim: bool,
                 dns: TxtResolver) -> SenderCheck:
    """Aligned DKIM or DMARC for the From domain of `raw`, never raising."""
    domain = from_address.rsplit("@", 1)[-1].lower() if "@" in from_address else ""
    if not domain:
        return SenderCheck(False, "no sender address")
    headers = BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
    if trusted_authserv_id:
        verdict = _from_auth_results(headers.get_all("Authentication-Results") or [], trusted_authserv_id, domain)
        if verdict is not None:
            return verdict
    if not verify_dkim:
        return SenderCheck(False, "no Authentication-Results from our server and DKIM checks are off")
    return _own_dkim(raw, headers.get_all("DKIM-Signature") or [], domain, dns)


def aligned(signing_domain: str, from_domain: str) -> bool:
    signing_domain, from_domain = signing_domain.lower().rstrip("."), from_domain.lower().rstrip(".")
    if "." not in signing_domain:
        return False
    return (signing_domain == from_domain or from_domain.endswith("." + signing_domain)
            or signing_domain.endswith("." + from_domain))


def _from_auth_results(values: list[str], trusted: str, domain: str) -> SenderCheck | None:
    for value in values:
        try:
            header = authres.AuthenticationResultsHeader.parse_value(" ".join(str(value).split()))
        except (authres.AuthResError, ValueError, IndexError):
            continue
        if str(header.authserv_id).lower() != trusted.lower():
            continue
        results = [(r.method.lower(), str(r.result).lower(), {f"{p.type}.{p.name}".lower(): str(p.value).lower()
                                                              for p in r.properties}) for r in header.results]
        for method, result, props in results:
            if method == "dmarc" and result == "pass" and props.get("header.from", domain) == domain:
                return SenderCheck(True, f"dmarc=pass for {domain} by {trusted}")
            if method == "dkim" and result == "pass" and aligned(props.get("header.d", ""), domain):
                return SenderCheck(True, f"dkim=pass d={props['header.d']} by {trusted}")
        said = ", ".join(f"{m}={r}" for m, r, _ in results) or "nothing"
        refuted = any(m == "dmarc" and r == "fail" for m, r, _ in results)
        return SenderCheck(False, f"{trusted} found no aligned pass for {domain} ({said})", refuted)
    return None


def _own_dkim(raw: bytes, signatures: list[str], domain: str, dns: TxtResolver) -> SenderCheck:
    if not signatures:
        return SenderCheck(False, f"no DKIM signature and no Authentication-Results for {domain}")
    checked = []
    try:
        verifier = dkim.DKIM(raw, minkey=1024, timeout=5)
    except dkim.DKIMException as e:
        return SenderCheck(False, f"DKIM could not read the message: {e}")
    for index, value in enumerate(signatures[:MAX_SIGNATURES]):
        try:
            tags = dkim.util.parse_tag_value(" ".join(str(value).split()).encode("ascii", "replace"))
            signer = tags.get(b"d", b"").decode("ascii", "replace")
        except dkim.util.InvalidTagValueList:
            continue
        if not aligned(signer, domain):
            checked.append(f"d={signer} not aligned")
            continue
        try:
            ok = verifier.verify(index, dnsfunc=dns)
        except dkim.DKIMException as e:
            checked.append(f"d={signer}: {e}")
            continue
        if ok:
            return SenderCheck(True, f"dkim=pass d={signer} (own check)")
        checked.append(f"d={signer}: signature does not verify")
    return SenderCheck(False, f"no aligned DKIM signature verified for {domain} ({'; '.join(checked)})")
