"""The daemon: builds the runtime and runs every stage as an asyncio loop until stopped.

Stages wake each other through in-process events as soon as they commit work, and also poll,
so rows written by another worker (or left by a crash) are picked up. IDLE wakes ingest; while
mail keeps coming ingest also looks every `FOLLOW_UP_SECONDS`, as IDLE tells of it late. Blocking work (database,
IMAP, Maildir) runs in threads; one bad item never stops a loop.

Several workers (processes, each with its own name) may share one database and one mailbox: one
of them leads the folders (IDLE, ingest, review; store/leader.py), taken over within seconds
when it dies; every other stage is shared through claims (stages/claims.py). A worker restarted
under its name first takes back the rows its previous life had claimed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from inbox_agent.config import Config, MaildirConfig, check_timers
from inbox_agent.errors import ConfigError, TransientError
from inbox_agent.extract import load_readers
from inbox_agent.mailbox.base import MailboxBackend
from inbox_agent.mailbox.imap import ImapBackend
from inbox_agent.mailbox.maildir import MaildirBackend
from inbox_agent.mailbox.proof import draft_key
from inbox_agent.orders.book import build_order_book
from inbox_agent.security.dns import CachedDns, TxtResolver
from inbox_agent.stages import draft, ingest, order_lookup, process, review, send, teach, timers, track
from inbox_agent.stages.claims import release_claims
from inbox_agent.stages.runtime import Runtime
from inbox_agent.store.database import Database, utcnow
from inbox_agent.store.leader import Leadership
from inbox_agent.tracking.cache import DatabaseCache
from inbox_agent.tracking.tracker import build_tracker

log = logging.getLogger("inbox_agent")
LEADER_ONLY = ("ingest", "review", "teach")  # the stages that read mailbox folders
LEADER_CHECK_SECONDS = 1.0
# IDLE tells of new mail late (Dovecot waits 500 ms before it notifies, to batch changes): while
# mail keeps coming, ingest also looks at INBOX itself this often, for this long after the last mail
FOLLOW_UP_SECONDS = 0.2
FOLLOW_UP_WINDOW = 3.0
STAGE_THREADS = 8  # one per threaded stage loop: none waits for a thread while another blocks on IMAP or a lookup


def build_mailbox(config: Config) -> MailboxBackend:
    if config.imap is not None:
        return ImapBackend(config.imap, config.imap.password() if config.imap.auth == "password" else "")
    maildir = config.maildir or MaildirConfig()
    return MaildirBackend(maildir.path, maildir.folders.inbox, maildir.poll_seconds, maildir.folder_encoding)


def mailbox_identity(config: Config) -> str:
    """Which mailbox this is (its account, or its Maildir folder), for the folder leader's lock."""
    if config.imap is not None:
        return f"imap://{config.imap.username}@{config.imap.host}:{config.imap.port}"
    return f"maildir:{Path((config.maildir or MaildirConfig()).path).resolve()}"


class Daemon:
    """All stages of one worker. `start()` then `await stopped`; `stop()` ends it cleanly."""

    def __init__(self, config: Config, mailbox: MailboxBackend | None = None, worker: str = "worker-1",
                 clock: Callable[[], datetime] = utcnow, dns: TxtResolver | None = None) -> None:
        check_timers(config)
        self.config = config
        self.db = Database(config.database.url)
        self.db.create()
        self.mailbox = mailbox or build_mailbox(config)
        cache = DatabaseCache(self.db, timedelta(minutes=config.tracking.ttl_minutes))
        tracker = build_tracker(config.tracking, cache, default_country=config.store.default_country, clock=clock,
                                budgets=self.db)
        self.rt = Runtime(config=config, db=self.db, mailbox=self.mailbox, worker=worker, log=log.info, tracker=tracker,
                          clock=clock, orders=build_order_book(config.orders),
                          dns=CachedDns(dns) if dns is not None else CachedDns())
        for skipped in tracker.skipped:
            log.warning("tracking provider off: %s", skipped)
        self.leadership = Leadership(self.db, self.rt.folders.inbox, mailbox_identity(config))
        self._stop = asyncio.Event()
        self._kicks: dict[str, asyncio.Event] = {}
        self._tasks: list[asyncio.Task[Any]] = []
        # the stages' blocking work has threads of its own; the IDLE watch and the leader check
        # use the event loop's default ones (min(32, cores + 4): 6 on two cores, fewer than the stages)
        self._threads = ThreadPoolExecutor(max_workers=STAGE_THREADS, thread_name_prefix=f"{worker}-stage")
        self.review_poll = config.imap.review_poll_seconds if config.imap is not None else 1.0

    def kick(self, stage: str) -> None:
        if stage in self._kicks:
            self._kicks[stage].set()

    async def start(self) -> None:
        """Set the mailbox up and start the stages; when the mailbox cannot be reached yet, say so in
        one line and keep trying with backoff in the background instead of failing."""
        await asyncio.to_thread(load_readers, self.config.reading)
        try:
            await asyncio.to_thread(self._setup)
        except TransientError as e:
            log.warning("mailbox not ready: %s (retrying)", e)
            self._tasks.append(asyncio.create_task(self._setup_later(), name="setup"))
            return
        self._start_loops()

    def _setup(self) -> None:
        folders = self.rt.folders
        self.mailbox.ensure_folders([folders.inbox, folders.review, folders.approved, folders.rejected, folders.sent,
                                     folders.attention, *teach.teach_folders(self.rt)])
        self._release_claims()
        self.rt.draft_key = draft_key(self.db)  # made before the first compose: no draft needs its proof added afterwards
        self.rt.reading = ingest.begin(self.rt)
        self.leadership.hold()

    async def _setup_later(self) -> None:
        backoff = 1.0
        while not self._stop.is_set():
            await self._sleep(backoff)
            try:
                await asyncio.to_thread(self._setup)
            except (TransientError, ConfigError) as e:  # a login refused once the server is up: said, retried
                backoff = min(backoff * 2, 60.0)
                log.warning("mailbox not ready: %s (retrying in %.0f s)", e, backoff)
                continue
            log.info("mailbox ready")
            self._start_loops()
            return

    def _start_loops(self) -> None:
        loops: dict[str, tuple[Callable[[], Awaitable[int]], tuple[str, ...], float]] = {
            "ingest": (self._threaded(ingest.run_once), ("process",), 5.0),
            "process": (self._threaded(process.run_once), ("track", "draft", "send", "orders"), 2.0),
            "orders": (self._threaded(order_lookup.run_once), ("process",), 5.0),
            "track": (self._threaded(track.run_once), ("process",), 5.0),
            "draft": (self._threaded(draft.run_once), ("send",), 5.0),
            "review": (self._threaded(review.run_once), ("send", "process"), self.review_poll),
            "send": (lambda: send.run_once(self.rt), ("process",), 2.0),
            "timers": (self._threaded(timers.run_once), ("process",), 1.0),
            "teach": (self._threaded(teach.run_once), ("process",), 2.0),
        }
        for name in loops:
            self._kicks[name] = asyncio.Event()
        for name, (step, wakes, poll) in loops.items():
            follow_up = FOLLOW_UP_SECONDS if name == "ingest" else None
            self._tasks.append(asyncio.create_task(self._loop(name, step, wakes, poll, follow_up), name=name))
        self._tasks.append(asyncio.create_task(self._watch_inbox(), name="watch"))
        self._tasks.append(asyncio.create_task(self._lead(), name="lead"))
        log.info("%s: started", self.rt.worker)

    def _release_claims(self) -> None:
        with self.db.transaction() as s:
            released = release_claims(s, self.rt.worker)
        if released:
            log.info("%s: took back %d rows claimed before a restart", self.rt.worker, released)

    async def _lead(self) -> None:
        """Lead the folders when no live worker does; say so when that changes."""
        was = self.leadership.held
        if was:
            log.info("%s: leading %s (ingest, review)", self.rt.worker, self.leadership.folder)
        while not self._stop.is_set():
            held = await asyncio.to_thread(self.leadership.hold)
            if held and not was:
                log.info("%s: leading %s (ingest, review)", self.rt.worker, self.leadership.folder)
                for name in LEADER_ONLY:
                    self.kick(name)
            elif was and not held:
                log.warning("%s: no longer leading %s", self.rt.worker, self.leadership.folder)
            was = held
            await self._sleep(LEADER_CHECK_SECONDS)

    def _threaded(self, func: Callable[[Runtime], int]) -> Callable[[], Awaitable[int]]:
        return lambda: asyncio.get_running_loop().run_in_executor(self._threads, func, self.rt)

    async def _loop(self, name: str, step: Callable[[], Awaitable[int]], wakes: tuple[str, ...], poll: float,
                    follow_up: float | None = None) -> None:
        """Run `step` until stopped: again at once after work (and wake `wakes`), else when kicked
        or after `poll` seconds; `follow_up`, when set, is the poll for `FOLLOW_UP_WINDOW` after work."""
        kick = self._kicks[name]
        backoff = 1.0
        worked = -math.inf
        while not self._stop.is_set():
            kick.clear()
            if name in LEADER_ONLY and not self.leadership.held:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(kick.wait(), timeout=poll)  # kicked on taking the lead
                continue
            try:
                done = await step()
                backoff = 1.0
            except TransientError as e:
                log.warning("%s: %s (retrying in %.0f s)", name, e, backoff)
                done, backoff = 0, min(backoff * 2, 60.0)
                await self._sleep(backoff)
                continue
            except Exception:  # noqa: BLE001 - a stage loop must survive anything
                log.exception("%s: unexpected error", name)
                done = 0
                await self._sleep(backoff)
            if done:
                for other in wakes:
                    self.kick(other)
                worked = time.monotonic()
                continue
            busy = follow_up is not None and time.monotonic() - worked < FOLLOW_UP_WINDOW
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(kick.wait(), timeout=follow_up if busy and follow_up is not None else poll)

    async def _watch_inbox(self) -> None:
        while not self._stop.is_set():
            if not self.leadership.held:
                await self._sleep(LEADER_CHECK_SECONDS)
                continue
            try:
                woke = await asyncio.to_thread(self.mailbox.wait_for_mail, 5.0)
            except Exception as e:  # noqa: BLE001 - the poll loop still covers the inbox
                log.warning("watch: %s", e)
                await self._sleep(1.0)
                continue
            if woke:
                self.kick("ingest")

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)

    async def stop(self) -> None:
        self._stop.set()
        for kick in self._kicks.values():
            kick.set()
        self.mailbox.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._threads.shutdown(wait=False)  # a stage still blocked in a call ends with it
        await asyncio.to_thread(self.rt.tracker.close)
        self.leadership.release()
        self.db.dispose()


def embedded_paths(config: Config) -> dict[str, Path]:
    maildir = config.maildir or MaildirConfig()
    return {"maildir": Path(maildir.path).resolve(), "database": Path(config.database.url.split("///", 1)[-1]).resolve()}
