"""DNS TXT lookups for DKIM keys: cached and bounded, so a flood of signed mail costs few lookups.

The resolver is dkimpy's own (dnspython underneath) unless another is given: tests give a
function answering from locally generated keys (dkimpy's `dnsfunc` hook), with no network.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

import dkim.dnsplug

TxtResolver = Callable[..., bytes | None]


class CachedDns:
    """A `dnsfunc` for dkimpy: at most `max_entries` names kept for `ttl_seconds`, each lookup
    bounded by `timeout` seconds; failures are cached as "no record" for the same time."""

    def __init__(self, resolve: TxtResolver | None = None, max_entries: int = 1024, ttl_seconds: float = 3600.0,
                 timeout: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._resolve = resolve or dkim.dnsplug.get_txt
        self._entries: OrderedDict[bytes, tuple[float, bytes | None]] = OrderedDict()
        self._max, self._ttl, self._timeout, self._clock = max_entries, ttl_seconds, timeout, clock
        self.lookups = 0

    def __call__(self, name: bytes, timeout: float = 5.0) -> bytes | None:
        now = self._clock()
        cached = self._entries.get(name)
        if cached is not None and cached[0] > now:
            self._entries.move_to_end(name)
            return cached[1]
        self.lookups += 1
        try:
            answer = self._resolve(name, timeout=min(timeout, self._timeout))
        except Exception:  # noqa: BLE001 - any resolver failure means "no key": the signature does not verify
            answer = None
        self._entries[name] = (now + self._ttl, answer)
        self._entries.move_to_end(name)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
        return answer
