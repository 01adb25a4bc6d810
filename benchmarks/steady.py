"""Steady rate: complaints APPENDed to a real Dovecot INBOX at a fixed rate while workers run.

Each complaint has its own customer and its own S10 number, known to a fake 17TRACK and a fake
USPS on loopback (their documented JSON) at 17TRACK's default rate limit (3 requests/s), so every
one takes the post-office kit path (tracking, picture, draft). The workers are real
`inbox-agent run` processes on one database (SQLite, or a fresh schema of the PostgreSQL at
INBOX_AGENT_TEST_POSTGRES), started before the first mail.

Latency is from the APPEND of a complaint to its draft appearing in Review (a reader polls the
folder every 50 ms and matches each draft to its complaint by the customer's address). Where it
goes is read from the database's own timestamps at the end (`stages`: the p50/p95 of each step,
APPEND -> ingested -> track intent -> tracked -> reply intent -> drafted -> seen), with the size
of the track rounds and the 17TRACK calls per complaint. Prints per
minute the p50/p95 latency of the complaints appended that minute, the workers' resident memory
(now and peak) and CPU seconds, and the machine's load average (on a shared machine a starved
worker cannot keep up, whatever the code), then the overall p50/p95 and the drift (last
minute's p50 against the first's).
Bar (issue 17): p50 <= 1 s, no drift, RSS <= 200 MB per worker.

USPS has no rate limit set (the adapter's default); its calls of one round go out together.
`--keep` keeps the workers' logs (and the SQLite file) for a look at where the time went.

Usage: python benchmarks/steady.py [--minutes M] [--rate R] [--workers W] [--database sqlite|postgresql]
                                   [--keep]   (needs dovecot-imapd; PostgreSQL for that database)
"""

from __future__ import annotations

import argparse
import contextlib
import email
import email.policy
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from imapclient import IMAPClient  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from benchmarks.backlog import POSTGRES_URL, database_url  # noqa: E402
from inbox_agent.samples import sample_complaint  # noqa: E402
from inbox_agent.store.database import Database, aware  # noqa: E402
from inbox_agent.store.tables import Case, InboundMessage, Intent  # noqa: E402
from tests.support.carriers import SEVENTEEN_KEY, USPS_ID, USPS_SECRET, FakeCarriers, LocalServer, Parcel, s10  # noqa: E402
from tests.support.dovecot import Dovecot  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
SEVENTEEN_DEFAULT_RATE = 3.0  # requests/s, 17TRACK's default limit per key
READ_EVERY = 0.05  # seconds between two looks at Review
START_TIMEOUT = 120.0  # seconds for the workers to lead and listen
DRAIN_TIMEOUT = 120.0  # seconds after the last APPEND for the last draft
PAID_LOOKUPS_PER_DAY = 1_000_000  # the default daily cap (500) would stop the run after about four minutes
DRIFT_FACTOR = 1.5  # the last minute's p50 above this times the first's (and above 0.2 s more) is drift


@dataclass
class Traffic:
    """When each complaint was appended, and when its draft was first seen in Review, by index."""

    appended: dict[int, float] = field(default_factory=dict)
    appended_at: dict[int, float] = field(default_factory=dict)  # time.time(), against the database's timestamps
    drafted: dict[int, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def latencies(self, start: float, end: float) -> list[float]:
        with self.lock:
            return [self.drafted[i] - t for i, t in self.appended.items() if start <= t < end and i in self.drafted]


def config_text(server: Dovecot, user: str, url: str, carriers: LocalServer) -> str:
    """17TRACK at its default limit; USPS (one number a call) at the adapter's own pace; a daily cap
    of paid lookups that 2 complaints/s do not reach."""
    return f"""
[store]
support_address = "support@store.example"
[security]
max_paid_lookups_per_day = {PAID_LOOKUPS_PER_DAY}
[database]
url = "{url}"
[imap]
host = "127.0.0.1"
port = {server.port}
tls = "none"
username = "{user}"
password_env = "BENCH_IMAP_PASSWORD"
[tracking.seventeen_track]
api_key_env = "BENCH_17TRACK_KEY"
base_url = "{carriers.url}/track/v2.2"
rate_per_second = {SEVENTEEN_DEFAULT_RATE}
[tracking.usps]
client_id_env = "BENCH_USPS_ID"
client_secret_env = "BENCH_USPS_SECRET"
base_url = "{carriers.url}"
"""


def customer(i: int) -> str:
    return f"customer{i}@example.org"


def customer_index(address: str) -> int | None:
    name, _, domain = address.partition("@")
    digits = name.removeprefix("customer")
    return int(digits) if domain == "example.org" and digits.isdigit() else None


def append_steadily(server: Dovecot, user: str, numbers: list[str], rate: float, traffic: Traffic,
                    stop: threading.Event) -> None:
    """One APPEND every 1/rate s on a fixed schedule (a slow APPEND does not shift the later ones)."""
    client = IMAPClient(server.host, port=server.port, ssl=False)
    client.login(user, "secret")
    begin = time.perf_counter()
    for i, number in enumerate(numbers):
        due = begin + i / rate
        if stop.wait(max(0.0, due - time.perf_counter())):
            break
        raw = sample_complaint("support@store.example", sender=customer(i), number=number)
        with traffic.lock:
            traffic.appended[i] = time.perf_counter()
            traffic.appended_at[i] = time.time()
        client.append("INBOX", raw)
    client.logout()


def read_review(server: Dovecot, user: str, traffic: Traffic, stop: threading.Event) -> None:
    """Note when each complaint's draft first shows in Review."""
    client = IMAPClient(server.host, port=server.port, ssl=False)
    client.login(user, "secret")
    seen = 0
    while not stop.is_set():
        client.select_folder("Review", readonly=True)
        uids = client.search(["UID", f"{seen + 1}:*"]) if seen else client.search("ALL")
        uids = [u for u in uids if u > seen]
        if uids:
            now = time.perf_counter()
            for data in client.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (TO)]"]).values():
                header = email.message_from_bytes(data[b"BODY[HEADER.FIELDS (TO)]"], policy=email.policy.default)
                address = email.utils.parseaddr(str(header["To"]))[1]
                if (i := customer_index(address)) is not None:
                    with traffic.lock:
                        traffic.drafted.setdefault(i, now)
            seen = max(uids)
        stop.wait(READ_EVERY)
    client.logout()


@dataclass(frozen=True)
class Sample:
    """One worker at one moment: resident memory now and at its peak (VmRSS, VmHWM, MB), CPU seconds."""

    rss: float
    peak: float
    cpu: float


def sample(pid: int) -> Sample:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return Sample(int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024,
                  (int(stat[11]) + int(stat[12])) / TICKS)


def p50_p95(samples: list[float]) -> str:
    if len(samples) < 2:
        return "p50 -, p95 -" if not samples else f"p50 {samples[0]:.2f} s, p95 {samples[0]:.2f} s"
    return f"p50 {statistics.median(samples):.2f} s, p95 {statistics.quantiles(samples, n=20)[18]:.2f} s"


def wait_until_listening(logs: list[Path], procs: list[subprocess.Popen[bytes]]) -> None:
    """Until every worker has started and one leads the INBOX (so it is IDLE on it)."""
    deadline = time.perf_counter() + START_TIMEOUT
    while time.perf_counter() < deadline:
        texts = [log.read_text(errors="replace") for log in logs]
        if all(": started" in t for t in texts) and any("leading INBOX" in t for t in texts):
            time.sleep(1.0)  # the leader's first ingest round and IDLE begin right after it says so
            return
        if any(p.poll() is not None for p in procs):
            raise RuntimeError(f"a worker exited: {texts}")
        time.sleep(0.2)
    raise RuntimeError("the workers did not start in time")


def run(minutes: float, rate: float, workers: int, kind: str, keep: bool) -> bool:
    server = Dovecot.start()
    fakes = FakeCarriers()
    carriers = fakes.serve()
    run_name = f"steady_{os.getpid()}"
    user = f"test-{run_name}@example.test"
    count = int(minutes * 60 * rate)
    numbers = [s10(20_000_000 + i) for i in range(count)]
    for number in numbers:
        fakes.add(Parcel(number, destination="US"))
    traffic, stop_appending, stop_reading = Traffic(), threading.Event(), threading.Event()
    with contextlib.ExitStack() as cleanup:
        tmp = tempfile.mkdtemp(prefix="steady-") if keep else cleanup.enter_context(tempfile.TemporaryDirectory())
        if keep:
            print(f"worker logs and database kept in {tmp}", flush=True)
        url = database_url(kind, Path(tmp), run_name)
        config = Path(tmp) / "config.toml"
        config.write_text(config_text(server, user, url, carriers))
        env = {**os.environ, "BENCH_IMAP_PASSWORD": "secret", "BENCH_17TRACK_KEY": SEVENTEEN_KEY,
               "BENCH_USPS_ID": USPS_ID, "BENCH_USPS_SECRET": USPS_SECRET}
        logs = [Path(tmp) / f"worker{w}.log" for w in range(workers)]
        procs = []
        for w, log in enumerate(logs):
            with log.open("wb") as out:
                procs.append(subprocess.Popen([sys.executable, "-m", "inbox_agent.cli", "run", "--config", str(config),
                                               "--worker", f"worker-{w + 1}"], cwd=tmp, env=env, stdout=out,
                                              stderr=subprocess.STDOUT))
        appender = reader = None
        samples: list[list[Sample]] = []  # per minute, per worker, at the minute's end
        try:
            wait_until_listening(logs, procs)
            reader = threading.Thread(target=read_review, args=(server, user, traffic, stop_reading), daemon=True)
            reader.start()
            appender = threading.Thread(target=append_steadily,
                                        args=(server, user, numbers, rate, traffic, stop_appending), daemon=True)
            before = [sample(p.pid) for p in procs]
            start = time.perf_counter()
            appender.start()
            print(f"{workers} worker(s) on {kind}, {rate:g} complaints/s for {minutes:g} min, "
                  f"17TRACK at {SEVENTEEN_DEFAULT_RATE:g} requests/s; latency = APPEND -> draft in Review", flush=True)
            spans = [(start + 60 * m, start + 60 * (m + 1)) for m in range(math.ceil(minutes))]
            for m, (_, end) in enumerate(spans):
                time.sleep(max(0.0, end - time.perf_counter()))
                samples.append([sample(p.pid) for p in procs])
                if m:  # a minute is reported once the next one has passed, so its drafts are in
                    report_minute(m - 1, traffic, spans[m - 1], samples[m - 2] if m > 1 else before, samples[m - 1])
            appender.join()
            deadline = time.perf_counter() + DRAIN_TIMEOUT
            while len(traffic.drafted) < len(traffic.appended) and time.perf_counter() < deadline:
                time.sleep(0.2)
            report_minute(len(spans) - 1, traffic, spans[-1], samples[-2] if len(spans) > 1 else before, samples[-1])
            after = [sample(p.pid) for p in procs]
            report_stages(url, traffic, fakes)
        finally:
            stop_appending.set()
            stop_reading.set()
            for p in procs:
                p.send_signal(signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
            if reader is not None:
                reader.join(timeout=5)
            carriers.close()
            server.stop()
            if kind == "postgresql":
                drop_schema(run_name)
    return summarise(traffic, spans, before, after, fakes)


def drop_schema(name: str) -> None:
    engine = create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as c:
        c.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
    engine.dispose()


STAGES = ("ingested (IDLE, fetch, read)", "track intent (process: decide)", "tracked (track round)",
          "reply intent (process: compose)", "drafted (APPEND to Review)", "seen in Review (50 ms polls)")


def _epoch(at: datetime) -> float:
    return (aware(at) or at).timestamp()


def report_stages(url: str, traffic: Traffic, fakes: FakeCarriers) -> None:
    """Where the latency goes, from the timestamps the workers wrote: per step, the p50/p95 of the
    time from the previous step, over the complaints that went all the way; then the 17TRACK calls
    and how many numbers each carried (the size of the track rounds)."""
    db = Database(url)
    steps: list[list[float]] = [[] for _ in STAGES]
    with db.transaction() as s:
        received = {m.case_id: m.received_at for m in s.query(InboundMessage) if m.case_id is not None}
        customers = {c.id: customer_index(c.customer) for c in s.query(Case)}
        tracks = {i.case_id: i for i in s.query(Intent).filter(Intent.kind == "track")}
        replies = {i.case_id: i for i in s.query(Intent).filter(Intent.kind == "reply")}
    db.dispose()
    with traffic.lock:
        appended, drafted = dict(traffic.appended_at), dict(traffic.drafted)
        seen = {i: appended[i] + t - traffic.appended[i] for i, t in drafted.items()}
    for case_id, index in customers.items():
        track, reply, ingested = tracks.get(case_id), replies.get(case_id), received.get(case_id)
        if index not in seen or track is None or reply is None or ingested is None:
            continue
        marks = [appended[index], *(_epoch(t) for t in (ingested, track.created_at, track.updated_at,
                                                        reply.created_at, reply.updated_at)), seen[index]]
        for step, (a, b) in enumerate(zip(marks, marks[1:], strict=False)):
            steps[step].append(b - a)
    print(f"stages ({len(steps[0])} complaints, time since the step before):", flush=True)
    for name, times in zip(STAGES, steps, strict=True):
        print(f"  {name:34} {p50_p95(times)}", flush=True)
    for endpoint in ("/register", "/gettrackinfo"):
        sizes = [len(json.loads(r.content)) for r in fakes.calls(endpoint)]
        mean = statistics.mean(sizes) if sizes else 0.0
        print(f"  17TRACK {endpoint}: {len(sizes)} calls, {mean:.1f} numbers a call (most {max(sizes, default=0)}), "
              f"{len(sizes) / max(1, len(appended)):.2f} calls per complaint", flush=True)


def report_minute(m: int, traffic: Traffic, span: tuple[float, float], first: list[Sample], last: list[Sample]) -> None:
    latencies = traffic.latencies(*span)
    with traffic.lock:
        appended = sum(1 for t in traffic.appended.values() if span[0] <= t < span[1])
    workers = ", ".join(f"{b.rss:.0f} MB (peak {b.peak:.0f}), CPU {b.cpu - a.cpu:.1f} s"
                        for a, b in zip(first, last, strict=True))
    print(f"minute {m + 1:2}: {appended:4} appended, {len(latencies):4} drafted, {p50_p95(latencies)}; "
          f"workers: {workers}; machine load {os.getloadavg()[0]:.1f}", flush=True)


def summarise(traffic: Traffic, spans: list[tuple[float, float]], before: list[Sample], after: list[Sample],
              fakes: FakeCarriers) -> bool:
    every = traffic.latencies(float("-inf"), float("inf"))
    missing = len(traffic.appended) - len(every)
    first, last = traffic.latencies(*spans[0]), traffic.latencies(*spans[-1])
    p50 = statistics.median(every) if every else math.inf
    first_p50 = statistics.median(first) if first else math.nan
    last_p50 = statistics.median(last) if last else math.nan
    drift = not last or last_p50 > max(DRIFT_FACTOR * first_p50, first_p50 + 0.2)
    peak = max(w.peak for w in after)
    cpu_ms = 1000 * sum(b.cpu - a.cpu for a, b in zip(before, after, strict=True)) / max(1, len(traffic.appended))
    calls = len(fakes.calls("/register")) + len(fakes.calls("/gettrackinfo"))
    print(f"overall: {len(every)} drafted of {len(traffic.appended)} appended ({missing} missing), {p50_p95(every)}; "
          f"first minute p50 {first_p50:.2f} s, last minute p50 {last_p50:.2f} s: {'DRIFT' if drift else 'no drift'}; "
          f"peak RSS {', '.join(f'{w.peak:.0f}' for w in after)} MB; CPU {cpu_ms:.0f} ms per complaint (all workers); "
          f"17TRACK calls {calls}", flush=True)
    met = not missing and p50 <= 1.0 and not drift and peak <= 200
    print(f"bar (p50 <= 1 s, no drift, RSS <= 200 MB): {'met' if met else 'NOT met'}")
    return met


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--rate", type=float, default=2.0, help="complaints appended per second")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--database", choices=["sqlite", "postgresql"], default="postgresql")
    ap.add_argument("--keep", action="store_true", help="keep the workers' logs (and the SQLite file) afterwards")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stopped from outside: workers and Dovecot go too
    sys.exit(0 if run(args.minutes, args.rate, args.workers, args.database, args.keep) else 1)


if __name__ == "__main__":
    main()
