"""OAuth2 access tokens for IMAP and SMTP logins (Gmail, Microsoft 365).

A `TokenSource` trades the refresh token for an access token at the provider's token endpoint
(RFC 6749 refresh grant, form-encoded), keeps it until shortly before it expires, and then
refreshes it; a refresh token the provider rotates is used from then on. Secrets come from the
environment and never appear in errors.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from inbox_agent.config import OAuth2Login, secret_from_env
from inbox_agent.errors import TransientError

REFRESH_MARGIN_SECONDS = 120.0


class TokenSource:
    def __init__(self, login: OAuth2Login, section: str, transport: httpx.BaseTransport | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        assert login.token_url and login.client_id_env and login.refresh_token_env
        self.token_url = login.token_url
        self._scope = login.scope
        self._client_id = secret_from_env(login.client_id_env, f"{section}.client_id_env")
        self._client_secret = (secret_from_env(login.client_secret_env, f"{section}.client_secret_env")
                               if login.client_secret_env else None)
        self._refresh_token = secret_from_env(login.refresh_token_env, f"{section}.refresh_token_env")
        self._transport = transport
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires = 0.0
        self.refreshes = 0

    def token(self) -> str:
        """A valid access token, refreshed when it has less than REFRESH_MARGIN_SECONDS left."""
        with self._lock:
            if self._token is None or self._clock() >= self._expires - REFRESH_MARGIN_SECONDS:
                self._refresh()
            assert self._token is not None
            return self._token

    async def token_async(self) -> str:
        return await asyncio.to_thread(self.token)

    def _refresh(self) -> None:
        form = {"grant_type": "refresh_token", "refresh_token": self._refresh_token, "client_id": self._client_id}
        if self._client_secret:
            form["client_secret"] = self._client_secret
        if self._scope:
            form["scope"] = self._scope
        started = self._clock()
        try:
            with httpx.Client(transport=self._transport, timeout=30) as client:
                response = client.post(self.token_url, data=form, headers={"Accept": "application/json"})
        except httpx.HTTPError as e:
            raise TransientError(f"oauth2 token endpoint {self.token_url}: {type(e).__name__}") from None
        body = _json(response)
        token = body.get("access_token")
        if response.status_code != 200 or not isinstance(token, str) or not token:
            error = body.get("error") or f"HTTP {response.status_code}"
            description = body.get("error_description")
            raise TransientError(f"oauth2 token endpoint {self.token_url} refused the refresh: {error}"
                                 + (f" ({' '.join(str(description).split())[:200]})" if description else ""))
        self._token = token
        try:
            lifetime = float(body.get("expires_in") or 3600)
        except (TypeError, ValueError):
            lifetime = 3600.0
        self._expires = started + lifetime
        rotated = body.get("refresh_token")
        if isinstance(rotated, str) and rotated:
            self._refresh_token = rotated
        self.refreshes += 1


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
