"""The HTTP edge shared by every adapter: rate limit, timeout, retries with backoff and jitter.

Retried: 429 (honouring Retry-After), 5xx, timeouts and transport errors. Anything else is
returned to the adapter, which decides whether it is a result (an unknown number) or a failure.
A provider that stays down raises ProviderUnavailable naming the provider and the cause; the
tracker turns that into "try again later" for that provider only.
"""

from __future__ import annotations

import asyncio
import email.utils
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
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


class RateLimiter:
    """At most `per_second` calls per second, shared by every event loop and thread of a provider.

    Not aiolimiter: its limiter belongs to one event loop, while the tracker runs a loop per round
    of lookups (asyncio.run in a worker thread) and a provider's budget must outlive them.
    """

    def __init__(self, per_second: float | None) -> None:
        self.interval = 1.0 / per_second if per_second else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    async def acquire(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


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


class Http:
    """One provider's way out: its client, limiter and retry policy."""

    def __init__(self, provider: str, client: httpx.AsyncClient, limiter: RateLimiter, policy: RetryPolicy,
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
            raise _Retryable("rate limited (HTTP 429)", retry_after_seconds(response.headers.get("Retry-After")))
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
