"""CPU of composing a post-office kit draft, from the decision to the bytes that go to Review.

N cases are stored in a SQLite database, each with its own customer and its own S10 parcel
delivered in the destination country (the built-in sample tracking, as the backlog benchmark's
fake carriers answer: origin leg, hand-over, delivery), and the draft-proof key exists (as in a
running daemon). Then:

- `compose_reply`, as the process stage calls it (one transaction per case, the intent flushed
  to the database), N times: CPU ms per draft and the draft's size;
- the same work step by step, each step timed on its own over the N cases: context, templates,
  picture draw, PNG encode, proof, MIME build and serialisation;
- with --profile, cProfile's top functions over the N `compose_reply` calls.

Figures are CPU time of this process (time.process_time), best of --repeat runs, after one warm-up
draft (fonts, templates and locales loaded as in a daemon that has drafted once).

Usage: python benchmarks/compose_bench.py [--count N] [--repeat R] [--languages en,fr] [--country US]
                                          [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from inbox_agent.config import Config
from inbox_agent.mailbox.maildir import MaildirBackend
from inbox_agent.mailbox.proof import draft_key, html_with_reference, text_with_reference, token
from inbox_agent.orders.model import Parcel
from inbox_agent.render.compose import compose_reply, main_tracking, tracking_image_for
from inbox_agent.render.context import build_context, order_context
from inbox_agent.render.message import build_message, case_tag, new_message_id, reply_subject
from inbox_agent.render.picture import png_bytes
from inbox_agent.render.templates import Rendered, render
from inbox_agent.stages.runtime import Runtime
from inbox_agent.store.database import Database
from inbox_agent.store.payloads import CaseFacts
from inbox_agent.store.tables import Case
from inbox_agent.tracking.sample import sample_status

TEMPLATE = "customer_post_office_kit"
S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
STEPS = ("context", "templates", "picture draw", "PNG encode", "proof", "MIME build + serialise")


def s10(serial: int, country: str) -> str:
    """A valid UPU S10 number (check digit included) for the serial."""
    digits = f"{serial % 100_000_000:08d}"
    check = 11 - sum(int(d) * w for d, w in zip(digits, S10_WEIGHTS, strict=True)) % 11
    return f"RR{digits}{5 if check == 11 else 0 if check == 10 else check}{country}"


def store_cases(db: Database, count: int, languages: list[str], country: str, now: datetime) -> list[int]:
    """`count` cases, each its own customer and its own delivered parcel; their ids."""
    ids = []
    with db.transaction() as s:
        for i in range(count):
            number = s10(7_000_000 + i, country)
            case = Case(state="open", customer=f"customer{i}@example.org", language=languages[i % len(languages)],
                        subject="Order #1043 - tracking says delivered but I never received it",
                        order_numbers=[str(1043 + i)], tracking_numbers=[Parcel(number=number, carrier="s10")],
                        facts=CaseFacts(customer_name=f"Customer {i}", tag_token=f"{i:08x}",
                                        customer_words="My order shows as delivered but I never received it.",
                                        tracking={number: sample_status(number, now, country)}),
                        opened_at=now)
            s.add(case)
            s.flush()
            ids.append(case.id)
    return ids


def whole(rt: Runtime, ids: list[int], now: datetime, run: int) -> tuple[float, int]:
    """CPU seconds for composing every case's kit draft as the process stage does, and the bytes made."""
    size = 0
    start = time.process_time()
    for case_id in ids:
        with rt.db.transaction() as s:
            case = s.get(Case, case_id)
            assert case is not None
            intent = compose_reply(rt, s, case, TEMPLATE, f"bench:{run}:{case_id}", now)
            size += len(intent.raw or b"")
    return time.process_time() - start, size


@dataclass
class Draft:
    """What one draft carries from step to step."""

    case: Case
    context: dict[str, Any] | None = None
    rendered: Rendered | None = None
    image: Any = None
    picture: bytes = b""
    body: str = ""
    html: str = ""


def by_step(config: Config, key: bytes, cases: list[Case]) -> dict[str, float]:
    """CPU seconds of each step of compose_reply over `cases`, each step timed on its own."""
    store = config.store
    domain = store.support_address.rsplit("@", 1)[-1]
    drafts = [Draft(case) for case in cases]

    def context(d: Draft) -> None:
        facts = d.case.facts
        d.context = build_context(
            config, customer_name=facts.customer_name, customer_email=d.case.customer,
            order_numbers=list(d.case.order_numbers), tracking=main_tracking(d.case),
            tracking_numbers=[t.number for t in d.case.tracking_numbers], customer_words=facts.customer_words,
            done_so_far=facts.done_so_far, picture=True, case_ref=f"C-{d.case.id}", **order_context(facts))

    def templates(d: Draft) -> None:
        assert d.context is not None
        d.rendered = render(config.paths.templates, TEMPLATE, [d.case.language, store.default_language], d.context,
                            f"tracking-{d.case.id}@{domain}")

    def draw(d: Draft) -> None:
        view = main_tracking(d.case)
        assert view is not None and d.rendered is not None
        d.image = tracking_image_for(view, d.rendered.language)

    def encode(d: Draft) -> None:
        d.picture = png_bytes(d.image)

    def proof(d: Draft) -> None:
        assert d.rendered is not None
        signed = token(key, d.case.id, d.case.id, [d.case.customer])
        d.body, d.html = text_with_reference(d.rendered.body, signed), html_with_reference(d.rendered.html, signed)

    def mime(d: Draft) -> None:
        assert d.rendered is not None
        build_message(from_address=store.support_address, from_name=store.name, to=[d.case.customer],
                      subject=reply_subject(d.rendered.subject, case_tag(d.case.id, d.case.facts.tag_token)),
                      body=d.body, message_id=new_message_id(domain), intent_id=d.case.id, html=d.html,
                      picture=d.picture, picture_cid=f"tracking-{d.case.id}@{domain}", proof="IA-1-" + "0" * 24)

    steps: dict[str, Callable[[Draft], None]] = dict(zip(STEPS, (context, templates, draw, encode, proof, mime),
                                                         strict=True))
    spent = {}
    for name, step in steps.items():
        start = time.process_time()
        for d in drafts:
            step(d)
        spent[name] = time.process_time() - start
    return spent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--languages", default="en")
    ap.add_argument("--country", default="US")
    ap.add_argument("--profile", action="store_true")
    a = ap.parse_args()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        config = Config()
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        db.create()
        rt = Runtime(config=config, db=db, mailbox=MaildirBackend(Path(tmp) / "mail"), clock=lambda: now)
        key = draft_key(db)
        ids = store_cases(db, a.count + 1, a.languages.split(","), a.country.upper(), now)
        whole(rt, ids[:1], now, 0)  # warm-up: fonts, templates, locales
        ids = ids[1:]
        best, size = min(whole(rt, ids, now, run) for run in range(1, a.repeat + 1))
        print(f"compose_reply      {best * 1000 / len(ids):7.2f} ms CPU per draft  ({len(ids)} kit drafts, best of "
              f"{a.repeat}; draft {size / len(ids) / 1024:.0f} KB)")
        with db.transaction() as s:
            cases = [c for c in (s.get(Case, i) for i in ids) if c is not None]
        runs = [by_step(config, key, cases) for _ in range(a.repeat)]
        for name in STEPS:
            print(f"  {name:23s} {min(r[name] for r in runs) * 1000 / len(ids):7.2f} ms")
        if a.profile:
            profile = cProfile.Profile(time.process_time)
            profile.runcall(whole, rt, ids, now, a.repeat + 1)
            pstats.Stats(profile).sort_stats("tottime").print_stats(25)
            pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
        db.dispose()


if __name__ == "__main__":
    main()
