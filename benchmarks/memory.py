"""A worker's resident memory, step by step: what each part the daemon loads adds.

In one fresh process, in the daemon's order: numpy, the rest of the daemon's imports
(SQLAlchemy, httpx, jinja2, Babel, Pillow, lingua, ...), the learned intent and stranger readers
(plain arrays from the model cache; a cold cache trains them in a child process first, which is
not counted), the reading of every message of a corpus (the language models load here), and
every customer template rendered in every store language. Prints the resident memory (VmRSS)
after each step with what the step added and the CPU time it took, the peak (VmHWM) at the end,
and whether scikit-learn or SciPy got imported (they must not: they are for training only).
Bar (issue 17): <= 200 MB per worker.

Usage: python benchmarks/memory.py [CORPUS_DIR]   (default: ../shared/corpus/dev, *.eml)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "dev"


def memory_mb(field: str) -> float:
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith(f"{field}:"))
    return int(line.split()[1]) / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    corpus = ap.parse_args().corpus
    last, cpu = memory_mb("VmRSS"), time.process_time()
    print(f"{'python started':40} {last:6.0f} MB")

    def step(name: str) -> None:
        nonlocal last, cpu
        now, spent = memory_mb("VmRSS"), time.process_time() - cpu
        print(f"{name:40} {now:6.0f} MB  (+{now - last:.0f})  {spent * 1000:6.0f} ms CPU", flush=True)
        last, cpu = now, time.process_time()

    import numpy  # noqa: F401, PLC0415
    step("numpy imported")
    import inbox_agent.app  # noqa: F401, PLC0415
    step("the daemon's other imports")
    from inbox_agent.config import Config  # noqa: PLC0415
    from inbox_agent.extract import load_readers  # noqa: PLC0415
    config = Config()
    load_readers(config.reading)
    step("intent and stranger readers loaded")
    from inbox_agent.reading import read_file  # noqa: PLC0415
    files = sorted(corpus.glob("*.eml"))
    languages = {read_file(path, config).get("language") for path in files}
    step(f"{len(files)} messages read ({len(languages - {None})} languages)")
    from inbox_agent.render.context import sample_context  # noqa: PLC0415
    from inbox_agent.render.templates import CUSTOMER_TEMPLATES, render  # noqa: PLC0415
    for language in config.store.languages:
        for template in CUSTOMER_TEMPLATES:
            render(config.paths.templates, template, [language], sample_context(config, "FR"))
    step("every customer template rendered")
    print(f"{'peak (VmHWM)':40} {memory_mb('VmHWM'):6.0f} MB")
    scientific = sorted({m.split(".")[0] for m in sys.modules} & {"sklearn", "scipy"})
    print(f"{'scikit-learn or SciPy imported':40} {', '.join(scientific) or 'no'}")


if __name__ == "__main__":
    main()
