"""OAuth2 logins (Microsoft 365 / Gmail style) on the real stack: Dovecot's oauth2 passdb asks a
loopback introspection endpoint, the daemon gets its access tokens from a loopback token endpoint,
and an aiosmtpd server accepts SASL XOAUTH2. IMAP uses OAUTHBEARER where offered, else XOAUTH2."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from imapclient import IMAPClient

from inbox_agent.app import Daemon
from inbox_agent.config import Config, DatabaseConfig, ImapConfig, SmtpConfig, StoreConfig
from inbox_agent.samples import sample_complaint
from tests.support.dovecot import Dovecot, free_port
from tests.support.oauth import (
    CLIENT_ID,
    CLIENT_SECRET,
    REFRESH_TOKEN,
    Provider,
    ProviderServer,
    XOAuth2Handler,
    dovecot_oauth2,
)
from tests.support.wait import until

USER = "agent365@example.test"
SUPPORT = "support@store.example"


@pytest.fixture
def provider() -> Iterator[tuple[Provider, ProviderServer]]:
    p = Provider(user=USER)
    server = ProviderServer(p)
    yield p, server
    server.close()


@pytest.mark.parametrize("mechanisms", ["xoauth2", "xoauth2 oauthbearer"])
async def test_oauth2_logins_on_imap_and_smtp(provider, tmp_path: Path, monkeypatch, mechanisms: str) -> None:  # type: ignore[no-untyped-def]
    p, endpoint = provider
    for name, value in (("OAUTH_CLIENT_ID", CLIENT_ID), ("OAUTH_CLIENT_SECRET", CLIENT_SECRET),
                        ("OAUTH_REFRESH_TOKEN", REFRESH_TOKEN)):
        monkeypatch.setenv(name, value)
    oauth = {"auth": "oauth2", "token_url": f"{endpoint.url}/token", "client_id_env": "OAUTH_CLIENT_ID",
             "client_secret_env": "OAUTH_CLIENT_SECRET", "refresh_token_env": "OAUTH_REFRESH_TOKEN",
             "scope": "https://outlook.office.com/IMAP.AccessAsUser.All offline_access"}
    server = Dovecot.start(extra=dovecot_oauth2(f"{endpoint.url}/introspect", mechanisms))
    handler = XOAuth2Handler(provider=p)
    smtp = Controller(handler, hostname="127.0.0.1", port=free_port(), auth_require_tls=False)
    smtp.start()
    config = Config(store=StoreConfig(support_address=SUPPORT),
                    database=DatabaseConfig(url=f"sqlite:///{tmp_path / 'db.sqlite'}"),
                    imap=ImapConfig(host="127.0.0.1", port=server.port, tls="none", username=USER, poll_seconds=2,
                                    **oauth),  # type: ignore[arg-type]
                    smtp=SmtpConfig(host="127.0.0.1", port=smtp.port, tls="none", username=USER, **oauth))  # type: ignore[arg-type]
    p.tokens.add("agent-token")
    agent = IMAPClient("127.0.0.1", port=server.port, ssl=False, timeout=10)
    daemon = Daemon(config)
    try:
        agent.oauth2_login(USER, "agent-token")
        await daemon.start()
        agent.append("INBOX", sample_complaint(SUPPORT))  # (dovecot-lda needs a passdb for the user)

        def review() -> list[int]:
            agent.select_folder("Review")
            return list(agent.search("ALL"))

        uids = await until(review, what="the draft")
        agent.move(uids, "Approved")
        await until(lambda: handler.messages, what="the reply sent over an XOAUTH2 SMTP login")
    finally:
        await daemon.stop()
        agent.logout()
        smtp.stop()
        log = (server.root / "dovecot.log").read_text()
        server.stop()
    daemon_logins = [line for line in log.splitlines() if "Login: user=<" in line]
    assert ("method=OAUTHBEARER" in log) == ("oauthbearer" in mechanisms) and daemon_logins, log[-2000:]
    assert handler.logins and set(handler.logins) <= p.tokens - {"agent-token"}
    assert len(p.grants) == 2, "one refresh for IMAP, one for SMTP: tokens are kept until shortly before expiry"
    assert all(g["client_secret"] == CLIENT_SECRET and "offline_access" in g["scope"] for g in p.grants)
    assert set(p.introspected) - {"agent-token"}, "Dovecot checked the daemon's token"
