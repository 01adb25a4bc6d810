"""Following a parcel across the hand-over: origin trackers, then the destination post.

For each number: ask the services that can track it (the carrier's own API first, then
YunExpress, Cainiao, and the universal trackers 17TRACK, AfterShip, TrackingMore) until one knows
it; find the last-mile number (stated by the service or written in its events); track it at the
destination post (see `_Session.last_miles`); merge both legs into one timeline.

A provider that is down is skipped for this round and noted in `legs`; when nobody could answer
the result says `retry: true`, so the caller asks again later instead of treating the parcel as
unknown. Calls are batched per provider up to its batch size; a provider's batches of one round
go out together (the first alone, as it may fetch an access token), paced by its rate limiter.

Every lookup of the process runs on the tracker's own event loop, in a thread of its own, with
one HTTP client (connection pool, TLS context) and one rate limiter per provider kept for the
tracker's life: worker threads hand their numbers to that loop and wait for the answer.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

import httpx

from inbox_agent.config import TrackingConfig
from inbox_agent.extract.formats import load_format_book
from inbox_agent.store.database import Database, utcnow
from inbox_agent.tracking.adapter import Adapter, MissingCredentials, sort_key
from inbox_agent.tracking.cache import Cache, MemoryCache
from inbox_agent.tracking.carriers import country_post
from inbox_agent.tracking.http import Http, Limiter, ProviderUnavailable, RateLimiter, RetryPolicy
from inbox_agent.tracking.lastmile import POSTS
from inbox_agent.tracking.providers import ADAPTERS, ORIGIN_TRACKERS
from inbox_agent.tracking.rate_budget import SharedRateLimiter, budget_key
from inbox_agent.tracking.sample import sample_status
from inbox_agent.tracking.status import LastMile, Leg, TrackingEvent, TrackingStatus, iso

_CLOSE_SECONDS = 10
T = TypeVar("T")


class Tracker:
    """The merged view of parcels from the configured providers (see module docstring)."""

    def __init__(self, adapters: Mapping[str, Adapter], cache: Cache, *, clock: Callable[[], datetime] = utcnow,
                 transport: httpx.AsyncBaseTransport | None = None, skipped: Sequence[str] = (),
                 budgets: Database | None = None) -> None:
        self.adapters = dict(adapters)
        self.cache = cache
        self.clock = clock
        self.transport = transport
        self.skipped = list(skipped)
        self.limiters = {name: _limiter(a, budgets) for name, a in self.adapters.items()}
        self.sample = False
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def track(self, numbers: Iterable[tuple[str, str]]) -> dict[str, TrackingStatus]:
        """(number, carrier code) pairs -> merged TrackingStatus per number, looked up on the tracker's
        loop; blocks the calling thread (a stage's worker thread, the CLI) until the answer."""
        return self._submit(self._track(list(numbers))).result()

    def wait_for_budget(self) -> None:
        """Block until every rate-limited provider's budget could take a round's calls at once
        (looked at, not taken). The track stage waits here before it gathers a round, so the
        numbers that come in while the budget refills go in that round, instead of each waiting
        for the round in flight and then for the budget inside the next one."""
        limited = [(limiter, a.round_calls) for a, limiter in
                   ((self.adapters[n], self.limiters[n]) for n in self.adapters) if a.rate_per_second]
        if limited:
            self._submit(_spare(limited)).result()

    def close(self) -> None:
        """Stop the tracker's loop: lookups in flight end with CancelledError in their callers (never
        a caller left waiting), every provider's client is closed; a later lookup starts a new loop."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._shut(), loop).result(timeout=_CLOSE_SECONDS)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=_CLOSE_SECONDS)
        loop.close()

    def client(self, name: str) -> httpx.AsyncClient:
        """The provider's HTTP client, made on first use inside the tracker's loop and kept."""
        if name not in self._clients:
            self._clients[name] = httpx.AsyncClient(transport=self.transport, follow_redirects=True,
                                                    headers={"User-Agent": "inbox-agent"})
        return self._clients[name]

    async def _track(self, numbers: Sequence[tuple[str, str]]) -> dict[str, TrackingStatus]:
        session = _Session(self, self.clock())
        origins = await session.first_answers(numbers)
        lasts = await session.last_miles(origins)
        return {n: self._own_post(merge(origins[n], lasts.get(n), session.legs.get(n, []))) for n, _ in numbers}

    def _submit(self, work: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=self._loop.run_forever, name="tracking", daemon=True)
                self._thread.start()
            return asyncio.run_coroutine_threadsafe(work, self._loop)

    async def _shut(self) -> None:
        current = asyncio.current_task()
        in_flight = [task for task in asyncio.all_tasks() if task is not current]
        for task in in_flight:
            task.cancel()
        await asyncio.gather(*in_flight, return_exceptions=True)
        clients, self._clients = self._clients, {}
        for client in clients.values():
            await client.aclose()

    def _own_post(self, status: TrackingStatus) -> TrackingStatus:
        """A number tracked directly at a destination post is its own last mile, trackable there."""
        adapter = self.adapters.get(status.provider)
        if status.last_mile is None and adapter is not None and adapter.post and status.found:
            return replace(status, last_mile=LastMile(adapter.post, status.number), last_mile_status=status.status)
        return status


class SampleTracker(Tracker):
    """Built-in sample answers for the embedded setup and the demo; says so in every status."""

    def __init__(self, clock: Callable[[], datetime] = utcnow, default_country: str = "US") -> None:
        super().__init__({}, MemoryCache(timedelta(0)), clock=clock)
        self.default_country = default_country
        self.sample = True

    async def _track(self, numbers: Sequence[tuple[str, str]]) -> dict[str, TrackingStatus]:
        now = self.clock()
        results = {}
        for number, _ in numbers:
            results[number] = sample_status(number, now, self.default_country)
        return results


def build_tracker(config: TrackingConfig, cache: Cache | None = None, *, env: Mapping[str, str] | None = None,
                  clock: Callable[[], datetime] = utcnow, transport: httpx.AsyncBaseTransport | None = None,
                  default_country: str = "US", budgets: Database | None = None) -> Tracker:
    """The tracker a config asks for: sample data, or every configured provider that has credentials.
    With `budgets`, each provider key's rate limit is kept in that database, shared by every worker."""
    if config.uses_sample_data():
        return SampleTracker(clock, default_country)
    adapters: dict[str, Adapter] = {}
    skipped = []
    for name, settings in config.providers().items():
        try:
            adapters[name] = ADAPTERS[name](settings, os.environ if env is None else env)
        except MissingCredentials as e:
            skipped.append(str(e))
    ttl = timedelta(minutes=config.ttl_minutes)
    return Tracker(adapters, cache or MemoryCache(ttl), clock=clock, transport=transport, skipped=skipped,
                   budgets=budgets)


async def _spare(limited: Sequence[tuple[Limiter, int]]) -> None:
    await asyncio.gather(*(limiter.spare(calls) for limiter, calls in limited))


def _limiter(adapter: Adapter, budgets: Database | None) -> Limiter:
    """The provider key's budget shared on the database when there is one, else this process's own."""
    if budgets is None or adapter.rate_per_second is None:
        return RateLimiter(adapter.rate_per_second, adapter.burst)
    return SharedRateLimiter(budgets, budget_key(adapter.name, adapter.secrets), adapter.rate_per_second, adapter.burst)


class _Session:
    """One round of lookups: legs noted per number."""

    def __init__(self, tracker: Tracker, now: datetime) -> None:
        self.tracker = tracker
        self.now = now
        self.legs: dict[str, list[Leg]] = {}

    async def first_answers(self, numbers: Sequence[tuple[str, str]]) -> dict[str, TrackingStatus]:
        answers: dict[str, TrackingStatus] = {}
        failures: dict[str, list[str]] = {}
        for name in self._origin_order(numbers):
            adapter = self.tracker.adapters[name]
            wanted = [n for n, c in numbers if (n not in answers or not answers[n].found) and adapter.accepts(n, c)]
            results = await self.ask(name, wanted)
            for number in wanted:
                if number not in results:
                    failures.setdefault(number, []).append(f"{name}: said nothing about this number")
            for number, result in results.items():
                if isinstance(result, str):
                    failures.setdefault(number, []).append(result)
                elif number not in answers or result.found:
                    answers[number] = result
        for number, _ in numbers:
            if number not in answers:
                answers[number] = _unanswered(number, self.now, failures.get(number, []), self.tracker)
            elif not answers[number].found and failures.get(number):
                answers[number] = replace(answers[number], retry=True)
        return answers

    async def last_miles(self, origins: Mapping[str, TrackingStatus]) -> dict[str, LastLeg]:
        """The destination post's answer about each parcel's last-mile number, by origin number.

        In this order: a configured destination-post adapter for that number; else the carrier's
        events already in the universal tracker's origin answer (no call); else a universal
        tracker asked about the last-mile number itself, whose answer counts through that
        carrier's events only. No universal tracker is asked again about the number it has just
        answered for.
        """
        adapters = self.tracker.adapters
        wanted: dict[str, list[tuple[str, LastMile]]] = {}
        results: dict[str, LastLeg] = {}
        for origin_number, origin in origins.items():
            target = _last_mile_target(origin)
            if target is None:
                continue
            post = next((n for n, a in adapters.items() if a.post and a.accepts(target.number, target.carrier)), None)
            answered = adapters.get(origin.provider)
            relayed = answered.relayed_last_mile(origin, target) if answered is not None and post is None else None
            universal = next((n for n, a in adapters.items() if a.universal), None)
            if relayed is not None:
                results[origin_number] = LastLeg(target, relayed, relayed=True)
            elif post is not None and post != origin.provider:
                wanted.setdefault(post, []).append((origin_number, target))
            elif post is None and universal is not None and (universal, target.number) != (origin.provider,
                                                                                          origin.number):
                wanted.setdefault(universal, []).append((origin_number, target))
        for name, pairs in wanted.items():
            answers = await self.ask(name, [target.number for _, target in pairs])
            for origin_number, target in pairs:
                answer = answers.get(target.number)
                if isinstance(answer, TrackingStatus):
                    results[origin_number] = LastLeg(target, _at_carrier(adapters[name], answer, target))
                elif answer:
                    self.legs.setdefault(origin_number, []).append(
                        Leg(name, target.number, "unavailable", answer, carrier=target.carrier))
        return results

    async def ask(self, name: str, numbers: Sequence[str]) -> dict[str, TrackingStatus | str]:
        """Answers (cached or fetched) by number; a string is why the provider could not answer."""
        adapter = self.tracker.adapters[name]
        wanted = list(dict.fromkeys(numbers))
        out: dict[str, TrackingStatus | str] = dict(self.tracker.cache.get_many(name, wanted, self.now))
        todo = [number for number in wanted if number not in out]
        http = Http(name, self.tracker.client(name), self.tracker.limiters[name], _policy(adapter),
                    adapter.settings.timeout_seconds)

        async def fetch(batch: Sequence[str]) -> None:
            try:
                async with asyncio.timeout(_deadline(adapter)):
                    fetched = await adapter.track(http, batch, self.now)
            except ProviderUnavailable as e:
                fetched = {}
                out.update({n: str(e) for n in batch})
            except TimeoutError:
                fetched = {}
                out.update({n: f"{name}: gave no answer in time" for n in batch})
            except Exception as e:  # noqa: BLE001 - a payload no parser foresaw is that provider's failure
                fetched = {}
                out.update({n: f"{name}: answered something we could not read ({type(e).__name__}: {e})"
                            for n in batch})
            out.update(fetched)
            # "no news yet" is asked again, not kept for a TTL
            keep.extend(status for status in fetched.values() if not status.retry)

        keep: list[TrackingStatus] = []
        batches = [todo[start:start + adapter.batch_size] for start in range(0, len(todo), adapter.batch_size)]
        if batches:  # the first alone (it may fetch an access token), the others together, paced by the limiter
            await fetch(batches[0])
            await asyncio.gather(*(fetch(batch) for batch in batches[1:]))
            # the answers of all batches in one write (USPS takes one number per call)
            self.tracker.cache.put_many(keep, self.now)
        return out

    def _origin_order(self, numbers: Sequence[tuple[str, str]]) -> list[str]:
        direct = [n for n, a in self.tracker.adapters.items() if n not in ORIGIN_TRACKERS]
        return direct + [n for n in ORIGIN_TRACKERS if n in self.tracker.adapters]


def _policy(adapter: Adapter) -> RetryPolicy:
    s = adapter.settings
    return RetryPolicy(attempts=s.attempts, backoff_seconds=s.backoff_seconds, max_wait_seconds=s.max_wait_seconds)


def _deadline(adapter: Adapter) -> float:
    s = adapter.settings
    return s.attempts * (s.timeout_seconds + s.max_wait_seconds) + 5


def _at_carrier(adapter: Adapter, answer: TrackingStatus, target: LastMile) -> TrackingStatus:
    """A universal tracker's answer about a last-mile number counts as the destination carrier's
    tracking only through that carrier's own events in it; a post adapter's answer is the post's."""
    if not adapter.universal or not answer.found:
        return answer
    leg = adapter.relayed_last_mile(answer, target)
    if leg is not None:
        return leg
    return replace(answer, status="not_found", delivered_at=None, events=(),
                   error=f"{adapter.name} knows {target.number} but has no event of {target.carrier} for it yet")


def _last_mile_target(origin: TrackingStatus) -> LastMile | None:
    """What to ask the destination post: the stated last-mile number, the S10 number itself, or
    a number whose format is a destination post's own (a USPS IMpb tracked by a universal tracker)."""
    if origin.last_mile is not None:
        return origin.last_mile
    identified = load_format_book().identify(origin.number)
    if identified is None:
        return None
    post = country_post(origin.destination_country)
    if post and identified.format.id == "s10":
        return LastMile(post, origin.number)
    if identified.carrier in POSTS:
        return LastMile(identified.carrier, origin.number)
    return None


def _unanswered(number: str, now: datetime, failures: list[str], tracker: Tracker) -> TrackingStatus:
    if failures:
        reason = "; ".join(failures)
    elif tracker.adapters:
        reason = "no configured tracking service handles this kind of number"
    else:
        reason = "no tracking service is configured" + (f" ({'; '.join(tracker.skipped)})" if tracker.skipped else "")
    return TrackingStatus(provider="none", number=number, status="not_found", delivered_at=None, origin_country=None,
                          destination_country=None, events=(), last_mile=None, tracking_url=None, fetched_at=iso(now),
                          error=reason, retry=bool(failures))


@dataclass(frozen=True)
class LastLeg:
    """The destination post's answer about a last-mile number, and whether it came with the origin answer."""

    target: LastMile
    status: TrackingStatus
    relayed: bool = False


def merge(origin: TrackingStatus, leg: LastLeg | None = None, extra: Sequence[Leg] = ()) -> TrackingStatus:
    """One view of both legs: the destination post's status wins once it knows the parcel."""
    legs = [Leg(origin.provider, origin.number, origin.status, origin.error, origin.tracking_url), *extra]
    if leg is None:
        return replace(origin, legs=tuple(legs))
    last = leg.status
    last_mile = origin.last_mile or leg.target
    legs.append(Leg(last.provider, last.number, last.status, last.error, last.tracking_url, carrier=last_mile.carrier,
                    relayed=leg.relayed))
    if not last.found:
        return replace(origin, last_mile=last_mile, last_mile_status="not_found", legs=tuple(legs))
    events = _timeline(origin.events, last.events)
    return replace(
        origin, status=last.status, delivered_at=last.delivered_at or origin.delivered_at,
        destination_country=origin.destination_country or last.destination_country, events=events,
        last_mile=last_mile, last_mile_status=last.status, tracking_url=last.tracking_url or origin.tracking_url,
        legs=tuple(legs),
    )


def _timeline(*legs: Iterable[TrackingEvent]) -> tuple[TrackingEvent, ...]:
    seen: set[tuple[float, str]] = set()
    events = []
    for event in (e for leg in legs for e in leg):
        key = (sort_key(event.time) // 60, event.description.lower())
        if key not in seen:
            seen.add(key)
            events.append(event)
    return tuple(sorted(events, key=lambda e: sort_key(e.time), reverse=True))
