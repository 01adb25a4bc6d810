"""`inbox-agent run`: the daemon plus, on the embedded default, the local SMTP listener.

Prints where everything is and how to try it; SIGINT/SIGTERM stop it cleanly.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

from inbox_agent.app import Daemon, embedded_paths
from inbox_agent.config import Config, MaildirConfig
from inbox_agent.extract.model_cache import TrainingStopped, stop_training
from inbox_agent.mailbox.listener import start_listener
from inbox_agent.mailbox.maildir import MaildirBackend
from inbox_agent.security.secrets import masked_url


async def run_daemon(config: Config, echo: Callable[[str], None], worker: str = "worker-1") -> None:
    stop_asked = asyncio.Event()  # a signal while starting ends the readers' training, or is honoured once started
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop_asked.set)
    daemon = Daemon(config, worker=worker)
    listener = None
    if config.imap is None:
        maildir = config.maildir or MaildirConfig()
        assert isinstance(daemon.mailbox, MaildirBackend)
        listener = start_listener(daemon.mailbox, maildir.smtp_listen)
        paths = embedded_paths(config)
        echo(f"inbox-agent (embedded): Maildir {paths['maildir']} (folders INBOX, Review, Approved, Rejected, Sent)")
        echo(f"  SMTP listener on {maildir.smtp_listen} delivers into INBOX; database {masked_url(config.database.url)}")
        echo("  outgoing mail is " + ("sent via [smtp]" if config.smtp else "captured into the Sent folder"))
    else:
        echo(f"inbox-agent: IMAP {config.imap.host}:{config.imap.port} as {config.imap.username}; "
             f"database {daemon.db.url.render_as_string(hide_password=True)}")
    if config.tracking.uses_sample_data():
        echo("  tracking: BUILT-IN SAMPLE DATA (no carrier configured)")
    if listener is not None:
        port = (config.maildir or MaildirConfig()).smtp_listen.rsplit(":", 1)[1]
        echo(f"  try it: .venv/bin/inbox-agent send-sample --port {port}")
    if await _started(daemon, stop_asked):
        await stop_asked.wait()
    await daemon.stop()
    if listener is not None:
        listener.stop()
    echo("inbox-agent stopped")


async def _started(daemon: Daemon, stop_asked: asyncio.Event) -> bool:
    """Start `daemon`, unless a stop is asked first: a first start trains the readers (tens of
    seconds), and a stop asked meanwhile ends that training rather than waiting for it."""
    starting = asyncio.create_task(daemon.start())
    asked = asyncio.create_task(stop_asked.wait())
    await asyncio.wait({starting, asked}, return_when=asyncio.FIRST_COMPLETED)
    if not starting.done():
        stop_training()
    try:
        await starting
    except TrainingStopped:
        return False
    finally:
        asked.cancel()
    return True
