"""Access tokens are refreshed before they expire, rotated refresh tokens are used, and a refused
refresh is one clear error without secrets; the token endpoint is faked at the HTTP edge with
Microsoft's documented payloads (extra fields included)."""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx
import pytest

from inbox_agent.config import SmtpConfig
from inbox_agent.errors import TransientError
from inbox_agent.mailbox.oauth2 import REFRESH_MARGIN_SECONDS, TokenSource
from tests.support.oauth import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, Provider

LOGIN = SmtpConfig(host="smtp.office365.com", username="agent@example.test", auth="oauth2",
                   token_url="https://login.microsoftonline.com/tenant/oauth2/v2.0/token", client_id_env="CID",
                   client_secret_env="CSECRET", refresh_token_env="RTOKEN")


def _transport(provider: Provider) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        status, body = provider.token_response(form)
        return httpx.Response(status, json=body)

    return httpx.MockTransport(handle)


def test_tokens_are_kept_then_refreshed_before_expiry(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in (("CID", CLIENT_ID), ("CSECRET", CLIENT_SECRET), ("RTOKEN", REFRESH_TOKEN)):
        monkeypatch.setenv(name, value)
    provider, now = Provider(user="agent@example.test", lifetime=3599), [1000.0]
    source = TokenSource(LOGIN, "smtp", transport=_transport(provider), clock=lambda: now[0])
    first = source.token()
    now[0] += 3599 - REFRESH_MARGIN_SECONDS - 1
    assert source.token() == first and len(provider.grants) == 1
    now[0] += 2  # less than the margin left: refreshed before it expires
    second = source.token()
    assert second != first and len(provider.grants) == 2
    assert provider.grants[1]["refresh_token"] == "refresh-1", "the rotated refresh token is used"


def test_a_refused_refresh_is_one_clear_error_without_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in (("CID", CLIENT_ID), ("CSECRET", "wrong-secret"), ("RTOKEN", REFRESH_TOKEN)):
        monkeypatch.setenv(name, value)
    source = TokenSource(LOGIN, "smtp", transport=_transport(Provider(user="agent@example.test")))
    with pytest.raises(TransientError) as caught:
        source.token()
    message = str(caught.value)
    assert "invalid_client" in message and "AADSTS7000215" in message and "\n" not in message
    assert "wrong-secret" not in message and REFRESH_TOKEN not in message
