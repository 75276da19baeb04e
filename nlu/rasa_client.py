"""Client of the Rasa NLU server (`POST /model/parse`) that never blocks the bot for long.

- Any failure (refused, timeout, 5xx, bad JSON) gives None, never an exception:
  the router then degrades to menu/digits/keywords.
- After a failure it backs off (skips calls for `backoff_s`) instead of hammering a
  dead server, then probes again with the next message.
- `available`, `last_error`, `last_ok`, `consecutive_failures` feed /healthz.
  `last_error` holds an error class and status, never message text; nothing here
  logs message text.
- Rasa's FallbackClassifier answers `nlu_fallback` for low-confidence messages; the
  contract has no such intent, so it is reported as `out_of_scope` with that
  confidence. Entity values are canonicalised to the sets the flows know.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx

from nlu.intent import INTENTS, Intent

log = logging.getLogger(__name__)

TOPICS = ("情绪管理", "认知调整", "压力应对", "人际关系", "职业规划", "家庭关系", "睡眠", "正念放松")
SCALES = ("phq9", "gad7")

# Safety net when the synonym mapper let a surface form through (e.g. 焦虑 tagged as scale).
_SCALE_KEYS = (("gad", "gad7"), ("焦虑", "gad7"), ("焦慮", "gad7"),
               ("phq", "phq9"), ("抑郁", "phq9"), ("抑鬱", "phq9"))
_TOPIC_KEYS = (("睡", "睡眠"), ("眠", "睡眠"), ("冥想", "正念放松"), ("正念", "正念放松"),
               ("放松", "正念放松"), ("压力", "压力应对"), ("減壓", "压力应对"), ("压", "压力应对"),
               ("情绪", "情绪管理"), ("情緒", "情绪管理"), ("焦虑", "情绪管理"), ("认知", "认知调整"),
               ("想法", "认知调整"), ("家", "家庭关系"), ("夫妻", "家庭关系"), ("亲子", "家庭关系"),
               ("人际", "人际关系"), ("同事", "人际关系"), ("职业", "职业规划"), ("工作", "职业规划"))


def canonical_entity(entity: str, value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    v = value.strip()
    if entity == "scale":
        if v in SCALES:
            return v
        low = v.lower()
        return next((c for k, c in _SCALE_KEYS if k in low), None)
    if entity == "topic":
        if v in TOPICS:
            return v
        low = v.lower()
        if low in ("sleep", "insomnia"):
            return "睡眠"
        if low in ("meditation", "mindfulness", "relax"):
            return "正念放松"
        if low == "stress":
            return "压力应对"
        return next((c for k, c in _TOPIC_KEYS if k in v), None)
    return v or None


def intent_from_parse(data: Any) -> Intent:
    """Turn Rasa's /model/parse JSON into the contract's Intent (raises on a bad shape)."""
    intent = data["intent"]
    name = intent.get("name")
    conf = float(intent.get("confidence") or 0.0)
    if name == "nlu_fallback" or name not in INTENTS:
        name = "out_of_scope"
    entities: dict[str, str] = {}
    for e in data.get("entities") or ():
        key = e.get("entity")
        val = canonical_entity(key, e.get("value"))
        if key and val and key not in entities:
            entities[key] = val
    return Intent(name=name, confidence=conf, entities=entities)


class RasaClient:
    def __init__(self, url: str, timeout_s: float = 0.4, backoff_s: float = 2.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self.backoff_s = backoff_s
        self.available = True          # optimistic until the first failure
        self.last_error = ""
        self.last_ok: float | None = None        # time.time() of the last good parse
        self.consecutive_failures = 0
        self._skip_until = 0.0                   # time.monotonic()
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._sync: httpx.Client | None = None

    # -- state -----------------------------------------------------------
    def _ok(self) -> None:
        self.available = True
        self.last_error = ""
        self.last_ok = time.time()
        self.consecutive_failures = 0
        self._skip_until = 0.0

    def _fail(self, error: str) -> None:
        if self.available or self.consecutive_failures == 0:
            log.warning("rasa unavailable: %s", error)
        self.available = False
        self.last_error = error
        self.consecutive_failures += 1
        self._skip_until = time.monotonic() + self.backoff_s

    def backing_off(self) -> bool:
        return time.monotonic() < self._skip_until

    def health(self) -> dict[str, Any]:
        return {"available": self.available, "last_error": self.last_error,
                "last_ok": self.last_ok, "consecutive_failures": self.consecutive_failures}

    @staticmethod
    def _describe(exc: BaseException) -> str:
        if isinstance(exc, httpx.HTTPStatusError):
            return f"http {exc.response.status_code}"
        if isinstance(exc, httpx.TimeoutException):
            return "timeout"
        if isinstance(exc, httpx.ConnectError):
            return "connect error"
        if isinstance(exc, (ValueError, KeyError, TypeError)):
            return f"bad response ({type(exc).__name__})"
        return type(exc).__name__

    # -- async -----------------------------------------------------------
    def _async_client(self) -> httpx.AsyncClient:
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout_s), transport=self._transport,
                limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
                trust_env=False,
            )
        return self._client

    async def parse(self, text: str) -> Intent | None:
        if self.backing_off():
            return None
        try:
            # hard deadline on top of httpx's per-phase timeouts
            async with asyncio.timeout(self.timeout_s):
                r = await self._async_client().post(self.url + "/model/parse", json={"text": text})
                r.raise_for_status()
                result = intent_from_parse(r.json())
        except (Exception, asyncio.TimeoutError) as exc:  # noqa: BLE001 - degrade, never raise
            self._fail("timeout" if isinstance(exc, (asyncio.TimeoutError, TimeoutError))
                       else self._describe(exc))
            return None
        self._ok()
        return result

    async def probe(self) -> bool:
        """A cheap liveness check (GET /), so /healthz tells the truth even when no parse ran."""
        try:
            async with asyncio.timeout(max(self.timeout_s, 1.0)):
                r = await self._async_client().get(self.url + "/")
                r.raise_for_status()
        except (Exception, asyncio.TimeoutError) as exc:  # noqa: BLE001 - report, never raise
            self._fail("timeout" if isinstance(exc, (asyncio.TimeoutError, TimeoutError))
                       else self._describe(exc))
            return False
        self._ok()
        return True

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- sync (CLI, assess) ---------------------------------------------
    def parse_sync(self, text: str) -> Intent | None:
        if self.backing_off():
            return None
        if self._sync is None:
            self._sync = httpx.Client(timeout=httpx.Timeout(self.timeout_s), trust_env=False)
        try:
            r = self._sync.post(self.url + "/model/parse", json={"text": text})
            r.raise_for_status()
            result = intent_from_parse(r.json())
        except Exception as exc:  # noqa: BLE001
            self._fail(self._describe(exc))
            return None
        self._ok()
        return result

    def close(self) -> None:
        if self._sync is not None:
            self._sync.close()
            self._sync = None
