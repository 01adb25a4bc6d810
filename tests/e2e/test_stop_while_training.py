"""A daemon asked to stop during its first start, while the readers are still being trained (tens of
seconds on an empty cache), ends the training child and stops instead of waiting for the fit."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from inbox_agent.extract.model_cache import SUFFIX, TRAINER
from tests.support.dovecot import free_port
from tests.support.wait import until


def _trainer_of(parent: int) -> int | None:
    """The pid of a training child of `parent`, if one runs."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:  # the process ended while being read
            continue
        ppid = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("PPid:"))
        if ppid == parent and TRAINER.encode() in cmdline:
            return int(entry.name)
    return None


async def test_sigterm_during_the_first_training_ends_it_and_stops(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    config = tmp_path / "config.toml"
    config.write_text(f"""
[store]
support_address = "support@store.example"
[database]
url = "sqlite:///{tmp_path / 'db.sqlite'}"
[maildir]
path = "{tmp_path / 'mail'}"
smtp_listen = "127.0.0.1:{free_port()}"
[reading]
cache_dir = "{cache}"
""")
    log = tmp_path / "run.log"
    with log.open("ab") as out:
        daemon = subprocess.Popen([sys.executable, "-m", "inbox_agent.cli", "run", "--config", str(config)],
                                  cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
    try:
        trainer = await until(lambda: _trainer_of(daemon.pid), timeout=60, what="the reader's training child")
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=60)
    finally:
        daemon.kill()
    output = log.read_text()
    assert code == 0, output
    assert output.rstrip().endswith("inbox-agent stopped"), output
    assert not Path(f"/proc/{trainer}").exists()  # the child was ended and reaped, not left behind
    assert not list(cache.glob(f"*{SUFFIX}"))  # nothing was saved: the fit did not run to its end
    assert "Traceback" not in output
