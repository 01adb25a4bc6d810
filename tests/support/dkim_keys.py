"""A DKIM key pair generated for the test run, its DNS TXT record, and signing with dkimpy."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import lru_cache

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


@dataclass(frozen=True)
class DkimKey:
    domain: str
    selector: str
    private_pem: bytes
    public_der: bytes

    @property
    def dns_name(self) -> bytes:
        return f"{self.selector}._domainkey.{self.domain}.".encode()

    @property
    def txt(self) -> bytes:
        return b"v=DKIM1; k=rsa; p=" + base64.b64encode(self.public_der)

    def sign(self, raw: bytes) -> bytes:
        """`raw` with a DKIM-Signature header on top (From, To, Subject, Message-ID, references signed)."""
        signature = dkim.sign(raw, self.selector.encode(), self.domain.encode(), self.private_pem,
                              include_headers=[b"from", b"to", b"subject", b"message-id", b"in-reply-to",
                                               b"references"])
        return signature + raw


@lru_cache(maxsize=8)
def dkim_key(domain: str, selector: str = "s1") -> DkimKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return DkimKey(domain, selector, private, public)
