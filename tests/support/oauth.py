"""A loopback OAuth2 provider: a token endpoint (refresh grant, form-encoded, answering like
Microsoft's v2.0 endpoint, refresh tokens rotated) and an RFC 7662 introspection endpoint that
Dovecot's oauth2 passdb asks; plus an aiosmtpd handler that accepts SASL XOAUTH2 with its tokens."""

from __future__ import annotations

import base64
import json
import os
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from aiosmtpd.smtp import AuthResult

from tests.support.smtp import RecordingHandler

CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN = "client-123", "client-secret-456", "refresh-0"


@dataclass
class Provider:
    user: str
    lifetime: int = 3599
    tokens: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=lambda: {REFRESH_TOKEN})
    grants: list[dict[str, str]] = field(default_factory=list)
    introspected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def token_response(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.grants.append(form)
            if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
                return 401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret.",
                             "error_codes": [7000215], "trace_id": "t", "correlation_id": "c"}
            if form.get("grant_type") != "refresh_token" or form.get("refresh_token") not in self.refresh_tokens:
                return 400, {"error": "invalid_grant", "error_description": "AADSTS70000: The provided grant is invalid.",
                             "error_codes": [70000], "trace_id": "t", "correlation_id": "c"}
            n = len(self.grants)
            access, rotated = f"access-{n}", f"refresh-{n}"
            self.tokens.add(access)
            self.refresh_tokens.add(rotated)
            return 200, {"token_type": "Bearer", "scope": "https://outlook.office.com/IMAP.AccessAsUser.All",
                         "expires_in": self.lifetime, "ext_expires_in": self.lifetime, "access_token": access,
                         "refresh_token": rotated}

    def introspect(self, token: str) -> dict[str, Any]:
        with self.lock:
            self.introspected.append(token)
            if token in self.tokens:
                return {"active": True, "username": self.user, "scope": "imap", "client_id": CLIENT_ID}
            return {"active": False}


class ProviderServer:
    def __init__(self, provider: Provider) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if self.path == "/token":
                    status, body = provider.token_response(form)
                else:
                    status, body = 200, provider.introspect(form.get("token", ""))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def dovecot_oauth2(introspection_url: str, mechanisms: str = "xoauth2 oauthbearer") -> str:
    """Extra Dovecot configuration: an oauth2 passdb checking tokens at `introspection_url` (its
    settings file goes to a world-readable temp dir, for Dovecot's auth process)."""
    folder = tempfile.mkdtemp(prefix="inbox-agent-oauth2-")
    os.chmod(folder, 0o755)
    conf_ext = os.path.join(folder, "oauth2.conf.ext")
    with open(conf_ext, "w") as f:
        f.write(f"introspection_url = {introspection_url}\nintrospection_mode = post\nusername_attribute = username\n"
                "active_attribute = active\nactive_value = true\nforce_introspection = yes\n")
    os.chmod(conf_ext, 0o644)
    return (f"auth_mechanisms = plain login {mechanisms}\n"
            f"passdb {{\n  driver = oauth2\n  mechanisms = {mechanisms}\n  args = {conf_ext}\n}}\n")


@dataclass
class XOAuth2Handler(RecordingHandler):
    """Records mail like RecordingHandler and accepts AUTH XOAUTH2 with a token the provider issued."""

    provider: Provider | None = None
    logins: list[str] = field(default_factory=list)

    async def auth_XOAUTH2(self, server: Any, args: list[str]) -> AuthResult:
        if len(args) < 2 or self.provider is None:
            return AuthResult(success=False)
        fields = dict(part.split("=", 1) for part in base64.b64decode(args[1]).decode().split("\x01") if "=" in part)
        token = fields.get("auth", "").removeprefix("Bearer ")
        ok = fields.get("user") == self.provider.user and token in self.provider.tokens
        if ok:
            self.logins.append(token)
        return AuthResult(success=ok)
