"""One rate budget per provider key, shared by every worker: two processes tracking at once on one
PostgreSQL and one 17TRACK key never spend more than the key's allowance together, measured by
when the fake 17TRACK on a loopback port received each request."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event, select

from inbox_agent.store.database import Database
from inbox_agent.store.tables import RateBudget
from inbox_agent.tracking.rate_budget import SharedRateLimiter, budget_key
from tests.support.carriers import SEVENTEEN_KEY, FakeCarriers, LocalServer, Parcel, s10

RATE, BURST = 5.0, 2  # per second, and calls at once: small, so a short run shows the limit
PER_PROCESS = 800  # numbers each process tracks: 20 batches of 40, each a register and a gettrackinfo call
WINDOW = 5.0  # seconds
STALL = 1.25  # arrivals are noted by this test's own server, which a busy machine may stall for a second


@pytest.fixture
def fakes() -> FakeCarriers:
    return FakeCarriers()


@pytest.fixture
def carriers(fakes: FakeCarriers) -> Iterator[LocalServer]:
    server = fakes.serve()
    yield server
    server.close()


def _config(tmp_path: Path, url: str, carriers: LocalServer) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f"""
[store]
support_address = "support@store.example"
[database]
url = "{url}"
[tracking.seventeen_track]
api_key_env = "T17_TOKEN"
base_url = "{carriers.url}/track/v2.2"
rate_per_second = {RATE}
burst = {BURST}
""")
    return path


def test_two_processes_on_one_key_stay_within_its_allowance(postgres_url: str, fakes: FakeCarriers,
                                                            carriers: LocalServer, tmp_path: Path) -> None:
    config = _config(tmp_path, postgres_url, carriers)
    Database(postgres_url).create()  # made before both start, so neither waits on the schema lock
    batches = [[s10(p * 10_000 + i) for i in range(PER_PROCESS)] for p in range(2)]
    for number in (n for batch in batches for n in batch):
        fakes.add(Parcel(number))
    env = {**os.environ, "T17_TOKEN": SEVENTEEN_KEY}
    procs = [subprocess.Popen([sys.executable, "-m", "inbox_agent.cli", "track", "--config", str(config), "--json",
                               *numbers], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for numbers in batches]
    outputs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err.decode()
        answers = [json.loads(line) for line in out.decode().splitlines()]
        assert len(answers) == PER_PROCESS and all(a["status"] == "delivered" for a in answers)

    arrivals = sorted(fakes.arrivals)
    assert len(arrivals) == 2 * 2 * PER_PROCESS // 40  # both really ran: every batch registered and fetched
    allowance = BURST + RATE * WINDOW
    busiest = max(sum(1 for t in arrivals if start <= t < start + WINDOW) for start in arrivals)
    assert busiest <= STALL * allowance, f"{busiest} requests within {WINDOW} s; the key allows {allowance:.0f}"

    with Database(postgres_url).transaction() as s:
        keys = s.scalars(select(RateBudget.key)).all()
    assert keys == [budget_key("seventeen_track", {"api_key": SEVENTEEN_KEY})]
    assert SEVENTEEN_KEY not in keys[0]


def test_the_burst_goes_at_once_then_a_call_waits_for_the_refill(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'budget.db'}")
    db.create()
    interval = 60.0  # so slowly refilled that the few milliseconds of this test refill nothing
    first, second = (SharedRateLimiter(db, budget_key("p", {"api_key": "k"}), 1 / interval, burst=3) for _ in range(2))
    takes = [first.take(), second.take(), first.take(), second.take(), first.take()]
    assert takes[:3] == [(1, 0.0), (1, 0.0), (1, 0.0)]
    assert [taken for taken, _ in takes[3:]] == [0, 0]
    assert interval - 1 < takes[3][1] <= interval  # the fourth call is refused until one interval has refilled it
    assert interval - 1 < takes[4][1] <= interval  # a refused call took nothing
    other = SharedRateLimiter(db, budget_key("p", {"api_key": "another key"}), 1 / interval, burst=3)
    assert other.take() == (1, 0.0)  # another key has its own budget


def test_calls_waiting_together_are_taken_together_as_many_as_the_bucket_has(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'budget.db'}")
    db.create()
    interval = 60.0
    limiter = SharedRateLimiter(db, budget_key("p", {"api_key": "k"}), 1 / interval, burst=3)
    assert limiter.take(2) == (2, 0.0)
    taken, wait = limiter.take(5)  # one left of the burst: that one, not the five asked
    assert taken == 1 and wait == 0.0
    taken, wait = limiter.take(5)
    assert taken == 0 and interval - 1 < wait <= interval


def test_callers_waiting_at_once_cost_one_statement(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'budget.db'}")
    db.create()
    limiter = SharedRateLimiter(db, budget_key("p", {"api_key": "k"}), 1 / 60.0, burst=5)
    upserts: list[str] = []
    event.listen(db.engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_: upserts.append(statement) if "rate_budget" in statement else None)

    async def four_calls() -> None:
        await asyncio.gather(*(limiter.acquire() for _ in range(4)))

    asyncio.run(four_calls())
    assert len(upserts) == 1
    assert limiter.take(5)[0] == 1  # the four were taken: one call of the burst is left


def test_a_wait_for_spare_calls_counts_the_refill_and_takes_nothing(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'budget.db'}")
    db.create()
    interval = 60.0
    limiter = SharedRateLimiter(db, budget_key("p", {"api_key": "k"}), 1 / interval, burst=3)
    assert limiter.until_spare(2) == 0.0  # a key never used: its bucket is full
    assert limiter.take(3) == (3, 0.0)
    assert interval * 2 - 1 < limiter.until_spare(2) <= interval * 2  # two of the three refilled
    assert interval - 1 < limiter.until_spare(1) <= interval
    assert interval * 3 - 1 < limiter.until_spare(5) <= interval * 3  # never more than the burst
    assert limiter.take(1)[0] == 0  # looking took nothing, and gave nothing back
