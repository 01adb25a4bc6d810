"""The HTTP edge shared by every adapter: rate limit, timeout, retries with backoff and jitter.

Retried: 429 (honouring Retry-After), 5xx, timeouts and transport errors. Anything else is
returned to the adapter, which decides whether it is a result (an unknown number) or a failure.
A provider that stays down raises ProviderUnavailable naming the provider and the cause; the
tracker turns that into "try again later" for that provider only.
"""

from __future__ import annotations

import asyncio
import email.utils
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx
from aiolimiter import AsyncLimiter
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter


class ProviderUnavailable(Exception):
    """The provider could not answer usefully now (down, throttling, garbage); retry later."""

    def __init__(self, provider: str, reason: str) -> None:
        super().__init__(f"{provider}: {reason}")
        self.provider = provider
        self.reason = reason


class ProviderRefused(ProviderUnavailable):
    """The provider refused our credentials: nothing will work until the config is fixed."""


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    backoff_seconds: float = 1.0
    max_wait_seconds: float = 30.0


SPARE_CHECK_SHARE = 0.1  # of an interval: how often a wait for spare calls looks at this process's bucket


class Limiter(Protocol):
    """What the HTTP edge waits on before each call: this process's bucket (RateLimiter) or the one
    shared by every worker on the database (tracking/rate_budget.py). `spare` waits until the
    bucket holds `calls` calls (at most its burst) without taking them: a round of lookups that
    waits there first, then gathers its numbers, carries the numbers that came in meanwhile."""

    async def acquire(self) -> None: ...

    async def spare(self, calls: int) -> None: ...


class RateLimiter:
    """A token bucket per provider: `burst` calls at once, then `per_second` on average.

    aiolimiter's leaky bucket does the counting. It belongs to the event loop that first uses it,
    which is the tracker's own loop (tracking/tracker.py): every lookup of the process runs there.
    """

    def __init__(self, per_second: float | None, burst: int | None = None) -> None:
        self.per_second = per_second
        self.burst = max(1, burst or round(per_second or 1))
        self._bucket = AsyncLimiter(self.burst, self.burst / per_second) if per_second else None

    async def acquire(self) -> None:
        if self._bucket is not None:
            await self._bucket.acquire()

    async def spare(self, calls: int) -> None:
        if self._bucket is None or self.per_second is None:
            return
        while not self._bucket.has_capacity(min(calls, self.burst)):
            await asyncio.sleep(SPARE_CHECK_SHARE / self.per_second)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def reset_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds until an `X-RateLimit-Reset` Unix time (AfterShip sends it with a 429)."""
    try:
        reset = float((value or "").strip())
    except ValueError:
        return None
    return max(0.0, reset - (now or datetime.now(UTC)).timestamp())


class Http:
    """One provider's way out: its client, limiter and retry policy."""

    def __init__(self, provider: str, client: httpx.AsyncClient, limiter: Limiter, policy: RetryPolicy,
                 timeout: float = 15.0) -> None:
        self.provider = provider
        self.timeout = timeout
        self.client = client
        self.limiter = limiter
        self.policy = policy

    async def request(self, method: str, url: str, throttled: Callable[[httpx.Response], float | None] | None = None,
                      **kwargs: Any) -> httpx.Response:
        """The response to a request, after retrying transient failures; never a 429 or 5xx.
        `throttled` reads a throttle an API signals in a 200 body: seconds to wait, or None."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.policy.attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Retryable),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    response = await self._once(method, url, **kwargs)
                    if throttled is not None and (wait := throttled(response)) is not None:
                        raise _Retryable("throttled", wait)
                    return response
        except _Retryable as e:
            raise ProviderUnavailable(self.provider, f"{e} (after {self.policy.attempts} attempts)") from None
        raise AssertionError("unreachable")

    async def _once(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        await self.limiter.acquire()
        try:
            response = await self.client.request(method, url, timeout=self.timeout, **kwargs)
        except httpx.TimeoutException:
            raise _Retryable("timed out") from None
        except httpx.TransportError as e:
            raise _Retryable(f"cannot connect ({type(e).__name__})") from None
        if response.status_code == 429:
            raise _Retryable("rate limited (HTTP 429)", retry_after_seconds(response.headers.get("Retry-After"))
                             or reset_seconds(response.headers.get("X-RateLimit-Reset")))
        if response.status_code >= 500:
            raise _Retryable(f"server error (HTTP {response.status_code})",
                             retry_after_seconds(response.headers.get("Retry-After")))
        return response

    def _wait(self, state: RetryCallState) -> float:
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, _Retryable) and error.retry_after is not None:
            return min(error.retry_after, self.policy.max_wait_seconds)
        backoff = wait_exponential_jitter(multiplier=self.policy.backoff_seconds, max=self.policy.max_wait_seconds,
                                          jitter=self.policy.backoff_seconds)
        return float(backoff(state))


def json_body(provider: str, response: httpx.Response) -> Any:
    """The decoded JSON of a response, or ProviderUnavailable saying what came instead."""
    try:
        return response.json()
    except ValueError:
        kind = response.headers.get("content-type", "no content type").split(";")[0]
        raise ProviderUnavailable(
            provider, f"answered HTTP {response.status_code} with {kind} that is not valid JSON"
        ) from None
