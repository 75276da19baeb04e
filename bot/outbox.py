"""Push dispatcher: delivers staff replies from the OUTBOX stream through a push channel.

escalation.relay XADDs every staff reply to core.keys.OUTBOX (user, channel, case, sealed
text, at). Each push channel (WeChat, Telegram) reads it through its own consumer group,
so every channel sees every entry and N workers share the work:

- an entry is acknowledged only once it is delivered or known to be undeliverable; a
  worker killed in between leaves it pending and another takes it over (XAUTOCLAIM);
- delivery is idempotent: a per-entry record marks it done, so a re-claimed entry that
  was in fact sent is acknowledged, not sent again;
- a temporary failure (network, 429) is retried after `retry_s`; after `max_attempts`,
  or at once when the platform says it can never be delivered (48-hour window closed,
  bot blocked, user unsubscribed), the failure is recorded on the case so the console
  shows staff that the user did not get the message.

No SDK here: a channel passes a `Pusher` that turns (user, text) into a platform call.
"""
from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Literal, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from core import keys
from core.clock import SystemClock
from core.seal import Sealer
from escalation.cases import CaseStore

log = logging.getLogger("xinyi.outbox")
DONE_TTL_S = 7 * 24 * 3600
MAX_AGE_S = 2 * 24 * 3600     # older entries (e.g. from before a channel was switched on) are not pushed


@dataclass(frozen=True)
class Delivery:
    status: Literal["delivered", "retry", "undeliverable"]
    reason: str = ""          # short, for the case history; never message text or platform ids

    @classmethod
    def ok(cls) -> "Delivery":
        return cls("delivered")

    @classmethod
    def retry(cls, reason: str) -> "Delivery":
        return cls("retry", reason)

    @classmethod
    def failed(cls, reason: str) -> "Delivery":
        return cls("undeliverable", reason)


class Pusher(Protocol):
    channel: str

    async def deliver(self, user: str, text: str, case_id: str) -> Delivery: ...


class OutboxDispatcher:
    def __init__(self, redis: Redis, sealer: Sealer, cases: CaseStore, pusher: Pusher, consumer: str,
                 clock=None, retry_s: float = 10.0, max_attempts: int = 5, max_age_s: float = MAX_AGE_S):
        self.redis = redis
        self.sealer = sealer
        self.cases = cases
        self.pusher = pusher
        self.channel = pusher.channel
        self.group = keys.outbox_group(self.channel)
        self.consumer = consumer
        self.clock = clock or SystemClock()
        self.retry_ms = int(retry_s * 1000)
        self.max_attempts = max_attempts
        self.max_age_s = max_age_s
        self._group_ready = False

    async def ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            await self.redis.xgroup_create(keys.OUTBOX, self.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    async def run_once(self, block_ms: int = 1000) -> int:
        """Retry stuck or failed entries, then deliver new ones; return how many were handled."""
        await self.ensure_group()
        batch: list[tuple] = []
        claimed = await self.redis.xautoclaim(keys.OUTBOX, self.group, self.consumer,
                                              min_idle_time=self.retry_ms, start_id="0-0", count=50)
        batch.extend(claimed[1])  # redis 6.2 answers [next, entries]; 7+ adds deleted ids
        resp = await self.redis.xreadgroup(self.group, self.consumer, {keys.OUTBOX: ">"}, count=100,
                                           block=None if batch else block_ms)
        for _, entries in resp or ():
            batch.extend(entries)
        # One user's messages in order; different users concurrently.
        per_user: dict[str, list] = defaultdict(list)
        for entry_id, fields in batch:
            if not fields:      # deleted from the stream (trimmed) while pending
                await self.redis.xack(keys.OUTBOX, self.group, entry_id)
                continue
            per_user[fields.get(b"user", b"").decode()].append((entry_id, fields))
        await asyncio.gather(*(self._user_entries(entries) for entries in per_user.values()))
        return len(batch)

    async def _user_entries(self, entries: list) -> None:
        for entry_id, fields in entries:
            try:
                if not await self._handle(entry_id, fields):
                    break   # keep this user's later messages behind the one that must be retried
            except RedisError:
                raise
            except Exception:
                log.exception("outbox %s: entry %s failed; it will be retried", self.channel, entry_id)
                break

    async def _handle(self, entry_id, fields) -> bool:
        """Handle one entry; False when it stays pending for a retry."""
        eid = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
        f = {k.decode(): v.decode() for k, v in fields.items()}
        if f.get("channel") != self.channel:
            await self.redis.xack(keys.OUTBOX, self.group, entry_id)
            return True
        record = keys.outbox_delivery(self.channel, eid)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hget(record, "done")
            pipe.hincrby(record, "attempts", 1)
            pipe.expire(record, DONE_TTL_S)
            done, attempts, _ = await pipe.execute()
        if done:
            await self.redis.xack(keys.OUTBOX, self.group, entry_id)
            return True
        case_id = f.get("case", "")
        now = self.clock.now()
        if now - float(f.get("at") or now) > self.max_age_s:
            result = Delivery.failed("too old to push")
        else:
            try:
                text = self.sealer.open(f["text"])
            except (KeyError, ValueError):
                result = Delivery.failed("message could not be opened")
            else:
                result = await self.pusher.deliver(f.get("user", ""), text, case_id)
        if result.status == "retry" and attempts < self.max_attempts:
            log.warning("outbox %s: delivery of entry %s failed (%s), attempt %d; retrying in %.0f s",
                        self.channel, eid, result.reason, attempts, self.retry_ms / 1000)
            return False
        if result.status != "delivered":
            reason = result.reason if result.status == "undeliverable" else \
                f"gave up after {attempts} attempts: {result.reason}"
            log.warning("outbox %s: staff reply not delivered case=%s reason=%s", self.channel, case_id, reason)
            if case_id:
                await self.cases.record(case_id, self.channel, f"not_delivered: {reason}", now)
        await self.redis.hset(record, "done", result.status)
        await self.redis.xack(keys.OUTBOX, self.group, entry_id)
        return True

    async def run_forever(self, stop: asyncio.Event, block_ms: int = 1000) -> None:
        while not stop.is_set():
            try:
                await self.run_once(block_ms=block_ms)
            except asyncio.CancelledError:
                raise
            except RedisError:
                log.error("outbox %s: redis unavailable; retrying in 1 s", self.channel)
                self._group_ready = False
                await asyncio.sleep(1)
            except Exception:
                log.exception("outbox %s: loop error; retrying in 1 s", self.channel)
                await asyncio.sleep(1)
