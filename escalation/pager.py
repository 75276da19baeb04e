"""Paging worker: reads case events from a Redis stream consumer group and pages staff.

Durable by construction: an event is acknowledged only after the case is marked paged,
so a worker killed in between leaves it pending and the next worker claims it (XAUTOCLAIM).
Marking paged only moves an `open` case, so a retried event never pages twice.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable, Protocol

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from core import keys
from core.clock import SystemClock
from escalation.cases import Case, CaseStore
from nlu.risk import Risk

log = logging.getLogger("xinyi.pager")
GROUP = "pager"


class Notifier(Protocol):
    name: str

    async def notify(self, case: Case) -> None: ...


class Pager:
    def __init__(self, redis: Redis, cases: CaseStore, notifiers: list[Notifier], consumer: str,
                 clock=None, claim_idle_ms: int = 15_000):
        self.redis = redis
        self.cases = cases
        self.notifiers = notifiers
        self.consumer = consumer
        self.clock = clock or SystemClock()
        self.claim_idle_ms = claim_idle_ms

    async def ensure_group(self) -> None:
        try:
            await self.redis.xgroup_create(keys.CASE_EVENTS, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def run_once(self, block_ms: int = 1000) -> int:
        """Handle stuck events of dead workers, then new ones; return how many were handled."""
        await self.ensure_group()
        handled = 0
        claimed = await self.redis.xautoclaim(keys.CASE_EVENTS, GROUP, self.consumer,
                                              min_idle_time=self.claim_idle_ms, start_id="0-0", count=100)
        for entry_id, fields in claimed[1]:  # redis 6.2 answers [next, entries]; 7+ adds deleted ids
            await self._handle(entry_id, fields)
            handled += 1
        resp = await self.redis.xreadgroup(GROUP, self.consumer, {keys.CASE_EVENTS: ">"}, count=100, block=block_ms)
        for _, entries in resp or ():
            for entry_id, fields in entries:
                await self._handle(entry_id, fields)
                handled += 1
        return handled

    async def _handle(self, entry_id, fields) -> None:
        f = {k.decode(): v.decode() for k, v in fields.items()} if fields else {}
        if f.get("type") in ("created", "raised") and int(f.get("risk", 0)) >= Risk.high:
            case = await self.cases.get(f["case"])
            if case is not None and case.status == "open":
                for notifier in self.notifiers:
                    try:
                        await notifier.notify(case)
                    except Exception:  # one failing channel must not stop the others
                        log.exception("paging channel %s failed for case %s", notifier.name, case.id)
                if await self.cases.mark_paged(case.id, self.clock.now()):
                    log.warning("paged case=%s risk=%s org=%s", case.id, case.risk.name, case.org)
        await self.redis.xack(keys.CASE_EVENTS, GROUP, entry_id)

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("pager loop error; retrying")
                await asyncio.sleep(1)
