"""`inbox-agent run --workers N`: N worker processes (worker-1 ... worker-N) on one config.

Each is a plain `inbox-agent run --worker NAME`; they share the database and the mailbox as
described in docs/scaling.md. SIGINT/SIGTERM are passed on to every worker; a worker that dies
on its own is started again under its name (so it takes back its claims at once).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from types import FrameType

RESTART_PAUSE_SECONDS = 1.0


def run_workers(config_path: str, count: int) -> int:
    """Run until signalled; returns the exit status (0 when every worker stopped cleanly)."""
    names = [f"worker-{i}" for i in range(1, count + 1)]
    processes = {name: _start(config_path, name) for name in names}
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping:
        for name, process in processes.items():
            if process.poll() is not None and not stopping:
                print(f"inbox-agent: {name} exited with status {process.returncode}; starting it again",
                      file=sys.stderr, flush=True)
                time.sleep(RESTART_PAUSE_SECONDS)
                processes[name] = _start(config_path, name)
        time.sleep(0.2)
    return max(process.wait() for process in processes.values())


def _start(config_path: str, name: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "inbox_agent.cli", "run", "--config", config_path, "--worker", name])
