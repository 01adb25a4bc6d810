"""A worker never imports scikit-learn or SciPy: not with a warm model cache, and not with an
empty one (the readers are then trained in a child process, and the worker loads the plain files).

Each case runs in a fresh interpreter: the daemon's imports, its start-up step that loads the
readers (Daemon.start's load_readers), then `inbox-agent parse --explain` over the dev corpus,
and finally the list of scikit-learn and SciPy modules in sys.modules."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROGRAM = """
import json, sys
import inbox_agent.app, inbox_agent.workers
from inbox_agent.cli import main
from inbox_agent.config import load_config
from inbox_agent.extract import load_readers

config_path, report, *files = sys.argv[1:]
load_readers(load_config(config_path, sections=("reading",)).reading)
try:
    main(["parse", "--explain", "--config", config_path, *files], standalone_mode=False)
except SystemExit as e:
    code = e.code
scientific = sorted(m for m in sys.modules if m.split(".")[0] in ("sklearn", "scipy"))
with open(report, "w") as f:
    json.dump({"exit": code, "scientific": scientific}, f)
"""


def _worker(config: Path, files: list[Path], report: Path) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", PROGRAM, str(config), str(report), *map(str, files)],
                          capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(done.stdout.splitlines()) == len(files)  # one parse record per message
    return json.loads(report.read_text())


def test_a_worker_reads_mail_without_scikit_learn_or_scipy(corpus: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    config = tmp_path / "config.toml"
    config.write_text(f'[reading]\ncache_dir = "{cache}"\n')
    files = sorted(corpus.glob("*.eml"))
    cold = _worker(config, files, tmp_path / "cold.json")  # empty cache: trained in a child
    assert cold == {"exit": 0, "scientific": []}
    saved = {p.name: p.stat().st_mtime_ns for p in cache.iterdir()}
    assert sorted(name.split("-")[0] for name in saved) == ["intent", "stranger"]
    assert all(name.endswith(".npz") for name in saved)
    warm = _worker(config, files, tmp_path / "warm.json")  # the cache as the first run left it
    assert warm == {"exit": 0, "scientific": []}
    assert {p.name: p.stat().st_mtime_ns for p in cache.iterdir()} == saved  # nothing trained again
