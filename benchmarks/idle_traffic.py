"""IMAP bytes per idle hour: the daemon against a private Dovecot through a byte-counting proxy.

Five complaints are drafted and their drafts rejected (Rejected holds 5 messages, as in the report
of 0.5 MB/s), then the daemon sits idle for --seconds; the script prints the bytes both ways and
the figure per hour. Usage: python benchmarks/idle_traffic.py [--seconds 120]  (needs dovecot-imapd)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imapclient import IMAPClient  # noqa: E402
from sqlalchemy import select  # noqa: E402

from inbox_agent.app import Daemon  # noqa: E402
from inbox_agent.config import Config, DatabaseConfig, ImapConfig, StoreConfig  # noqa: E402
from inbox_agent.samples import sample_complaint  # noqa: E402
from inbox_agent.store.tables import Intent  # noqa: E402
from tests.support.dovecot import Dovecot  # noqa: E402

USER = "test-traffic@example.test"
NUMBERS = ["LP00612849305172"] * 5


class CountingProxy:
    """Loopback TCP proxy to the IMAP server that counts the bytes of every connection."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.to_server = 0
        self.to_client = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
            await asyncio.gather(self._pump(reader, up_writer, True), self._pump(up_reader, writer, False))
        except (asyncio.CancelledError, ConnectionError, OSError):
            writer.close()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, to_server: bool) -> None:
        try:
            while data := await reader.read(65536):
                if to_server:
                    self.to_server += len(data)
                else:
                    self.to_client += len(data)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    def reset(self) -> None:
        self.to_server = self.to_client = 0


async def _wait(condition, what: str, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(condition):
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


async def measure(seconds: float) -> tuple[int, int]:
    server = Dovecot.start()
    proxy = CountingProxy(server.port)
    port = await proxy.start()
    os.environ["BENCH_IMAP_PASSWORD"] = "secret"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = Config(store=StoreConfig(support_address="support@store.example"),
                            database=DatabaseConfig(url=f"sqlite:///{tmp}/bench.db"),
                            imap=ImapConfig(host="127.0.0.1", port=port, tls="none", username=USER,
                                            password_env="BENCH_IMAP_PASSWORD"))
            daemon = Daemon(config)
            await daemon.start()
            agent = IMAPClient("127.0.0.1", port=server.port, ssl=False)
            agent.login(USER, "secret")
            try:
                for n, number in enumerate(NUMBERS):
                    server.deliver(USER, sample_complaint("support@store.example", sender=f"c{n}@example.org",
                                                          number=number))
                await _wait(lambda: agent.folder_status("Review", [b"MESSAGES"])[b"MESSAGES"] == len(NUMBERS),
                            "the drafts")
                agent.select_folder("Review")
                agent.move(agent.search("ALL"), "Rejected")

                def all_rejected() -> bool:
                    with daemon.db.transaction() as s:
                        statuses = list(s.scalars(select(Intent.status).where(Intent.kind == "reply")))
                    return statuses.count("REJECTED") == len(NUMBERS)

                await _wait(all_rejected, "the rejections")
                proxy.reset()
                await asyncio.sleep(seconds)
                return proxy.to_server, proxy.to_client
            finally:
                agent.logout()
                await daemon.stop()
    finally:
        assert proxy.server is not None
        proxy.server.close()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    args = parser.parse_args()
    sent, received = asyncio.run(measure(args.seconds))
    per_hour = (sent + received) * 3600 / args.seconds
    print(f"idle {args.seconds:.0f} s with 5 messages in Rejected: {sent} bytes to the server, {received} from it")
    print(f"idle IMAP traffic: {per_hour / 1e6:.2f} MB per hour ({per_hour / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
