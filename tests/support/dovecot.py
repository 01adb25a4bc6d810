"""A private Dovecot for the tests: loopback, free port, its own temp dir, no systemd.

Mail processes run as nobody (Dovecot refuses uid 0); the temp dir is 0755 so the auth and mail
users can reach it. Any test-*@example.test user logs in with "secret" and gets an empty mailbox. Options make the
server answer as other providers do: a namespace prefix and separator (cPanel/Courier's `INBOX.`),
implicit TLS with a given certificate, extra configuration (another passdb), a chosen port.
Stopping signals the whole process group, which ends IDLE connections at once.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

CONF = """\
instance_name = inbox-agent-test-{port}
base_dir = {root}/run
state_dir = {root}/state
protocols = imap
listen = 127.0.0.1
ssl = {ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = {root}/dovecot.log
auth_failure_delay = 0
mail_max_userip_connections = 100
passdb {{
  driver = static
  args = password=secret
  username_filter = test-*@example.test
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={root}/mail/%d/%n
}}
mail_location = maildir:~/Maildir
mailbox_idle_check_interval = 1 secs
namespace inbox {{
  inbox = yes
  separator = {separator}
  prefix = {prefix}
}}
{extra}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Dovecot:
    root: Path
    port: int
    process: subprocess.Popen[bytes]
    host: str = "127.0.0.1"

    @property
    def conf(self) -> str:
        return str(self.root / "dovecot.conf")

    tls_port: int = 0

    @classmethod
    def start(cls, port: int | None = None, prefix: str = "", separator: str = "/", cert: tuple[Path, Path] | None = None,
              extra: str = "") -> Dovecot:
        binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
        if not os.path.exists(binary):
            raise RuntimeError("dovecot is missing: apt-get install -y --no-install-recommends dovecot-imapd")
        root = Path(tempfile.mkdtemp(prefix="inbox-agent-dovecot-"))
        os.chmod(root, 0o755)
        (root / "mail").mkdir()
        if os.geteuid() == 0:
            os.chown(root / "mail", 65534, 65534)
        port = port or free_port()
        tls_port = free_port() if cert else 0
        ssl = f"yes\nssl_cert = <{cert[0]}\nssl_key = <{cert[1]}" if cert else "no"
        (root / "dovecot.conf").write_text(CONF.format(root=root, port=port, tls_port=tls_port, ssl=ssl, prefix=prefix,
                                                       separator=separator, extra=extra))
        process = subprocess.Popen([binary, "-F", "-c", str(root / "dovecot.conf")], start_new_session=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        server = cls(root, port, process, tls_port=tls_port)
        server._wait_ready()
        return server

    def _wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as s:
                    if s.recv(4).startswith(b"* OK"):
                        return
            except OSError:
                if self.process.poll() is not None:
                    break
            time.sleep(0.02)
        log = (self.root / "dovecot.log").read_text() if (self.root / "dovecot.log").exists() else ""
        self.stop()
        raise RuntimeError(f"dovecot did not start: {log[-2000:]}")

    def deliver(self, user: str, raw: bytes, folder: str | None = None) -> None:
        """MTA-style delivery through dovecot-lda; `folder`: straight into that folder, as a server
        does that files "user+folder@" there (or a Sieve rule)."""
        into = ["-m", folder] if folder else []
        subprocess.run(["/usr/lib/dovecot/dovecot-lda", "-c", self.conf, "-d", user, "-f", "sender@example.org", *into],
                       input=raw, check=True, capture_output=True)

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)
