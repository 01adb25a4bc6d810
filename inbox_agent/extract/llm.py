"""An optional second reader: an OpenAI-compatible chat-completions endpoint (a hosted one, or a
local llama.cpp or Ollama server), asked only when the local reader is unsure.

It sees the newest text and the subject only (never addresses or quoted history) and must answer
with a JSON object that follows a schema naming the intents the sender's role allows. A timeout,
a few retries and a daily budget (requests per UTC day, counted by this process) bound it; over
budget, unreachable or answering nonsense, it is skipped and the message stays unsure. Its answer
never stands alone: the caller accepts it only when it is one of the local reader's two best
guesses. Off by default (`[reading.llm] enabled`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache

import httpx

from inbox_agent.config import LlmConfig, secret_from_env
from inbox_agent.domain import Intent

_INSTRUCTIONS = (
    "You classify one email sent to the support mailbox of an online store that drop-ships parcels. "
    "Answer with the single intent that fits the sender's newest text best, among the allowed ones. "
    "delivered_not_received: the tracking or carrier says delivered but the sender does not have the parcel; "
    "where_is_my_order: asks where the order is or when it comes, with no claim it was delivered; "
    "received: the parcel arrived or was found, with no problem raised; "
    "supplier_refund: a supplier grants or offers a refund; supplier_reship: a supplier sends a replacement; "
    "supplier_info_request: a supplier asks for proof or details first; "
    "supplier_declined: a supplier refuses both refund and replacement; other: anything else."
)


@dataclass(frozen=True)
class LlmAnswer:
    intent: Intent | None  # None: skipped (off, over budget, down or a malformed answer)
    note: str


class LlmReader:
    """One endpoint with its daily budget; thread-safe."""

    def __init__(self, config: LlmConfig, client: httpx.Client | None = None,
                 today: Callable[[], date] = lambda: datetime.now(UTC).date()) -> None:
        self.config = config
        self.client = client or httpx.Client(timeout=config.timeout_seconds)
        self.today = today
        self._lock = threading.Lock()
        self._day: date | None = None
        self._used = 0

    def ask(self, text: str, subject: str, allowed: Sequence[Intent]) -> LlmAnswer:
        if not self._spend():
            return LlmAnswer(None, f"skipped: daily budget of {self.config.daily_budget} requests used")
        body = {
            "model": self.config.model,
            "temperature": 0,
            "messages": [{"role": "system", "content": _INSTRUCTIONS},
                         {"role": "user", "content": f"Subject: {subject}\n\n{text[: self.config.max_chars]}"}],
            "response_format": {"type": "json_schema", "json_schema": {
                "name": "intent", "strict": True,
                "schema": {"type": "object", "additionalProperties": False, "required": ["intent"],
                           "properties": {"intent": {"type": "string", "enum": [i.value for i in allowed]}}}}},
        }
        headers = {"Authorization": f"Bearer {secret_from_env(self.config.api_key_env, 'reading.llm.api_key_env')}"} \
            if self.config.api_key_env else {}
        url = self.config.base_url.rstrip("/") + "/chat/completions"
        problem = "no answer"
        for _ in range(self.config.attempts):
            try:
                response = self.client.post(url, json=body, headers=headers)
            except httpx.HTTPError as e:
                problem = f"{type(e).__name__}"
                continue
            if response.status_code == 200:
                return _answer(response, allowed)
            problem = f"HTTP {response.status_code}"
            if response.status_code < 500 and response.status_code != 429:
                break  # a request the endpoint refuses will not pass on a retry
        return LlmAnswer(None, f"skipped: endpoint down ({problem})")

    def _spend(self) -> bool:
        with self._lock:
            today = self.today()
            if self._day != today:
                self._day, self._used = today, 0
            if self._used >= self.config.daily_budget:
                return False
            self._used += 1
            return True


def _answer(response: httpx.Response, allowed: Sequence[Intent]) -> LlmAnswer:
    """The intent in a chat-completion answer, checked against the allowed ones."""
    try:
        content = response.json()["choices"][0]["message"]["content"]
        value = json.loads(content)["intent"]
        intent = Intent(value)
    except (ValueError, KeyError, IndexError, TypeError):
        return LlmAnswer(None, "skipped: an answer that does not follow the schema")
    if intent not in allowed:
        return LlmAnswer(None, f"skipped: answered {intent.value}, not an intent of this sender")
    return LlmAnswer(intent, f"answered {intent.value}")


@lru_cache(maxsize=4)
def llm_reader(config: LlmConfig) -> LlmReader:
    """The reader of one `[reading.llm]` setting (one budget per process and setting)."""
    return LlmReader(config)
