"""Paging worker: reads case events from a Redis stream consumer group and pages staff.

Durable by construction: an event is acknowledged only after the case is marked paged,
so a worker killed in between leaves it pending and the next worker claims it (XAUTOCLAIM).
Marking paged only moves an `open` case, and a channel that already delivered a round is
marked in Redis, so a retried event pages no one twice.

`high`/`imminent` cases get their first page here (escalate.Escalator routes it over the
roster and starts the SLA timer); a `medium` case gets a callback task for the next
service hours of its organisation (followups.FollowUps, kind `callback`).
"""
from __future__ import annotations

import asyncio
import logging

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from core import keys
from core.clock import SystemClock
from escalation.cases import CaseStore
from escalation.paging import Dispatcher, Notifier, Page  # noqa: F401  (Notifier, Page: the public protocol)
from nlu.risk import Risk

log = logging.getLogger("xinyi.pager")
GROUP = "pager"


class Pager:
    def __init__(self, redis: Redis, cases: CaseStore, notifiers: list, consumer: str,
                 clock=None, claim_idle_ms: int = 15_000, *, escalator=None, followups=None, metrics=None,
                 roster=None):
        from escalation.escalate import Escalator
        self.redis = redis
        self.cases = cases
        self.consumer = consumer
        self.clock = clock or SystemClock()
        self.claim_idle_ms = claim_idle_ms
        self.metrics = metrics
        self.escalator = escalator or Escalator(redis, cases, None, None,
                                                Dispatcher(redis, notifiers, metrics, self.clock), self.clock, metrics)
        self.followups = followups
        self.roster = roster if roster is not None else self.escalator.roster

    @property
    def notifiers(self) -> list:
        return self.escalator.dispatcher.notifiers

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
            if fields:  # a trimmed entry comes back empty: nothing to do but acknowledge it
                await self._handle(entry_id, fields)
            else:
                await self.redis.xack(keys.CASE_EVENTS, GROUP, entry_id)
            handled += 1
        resp = await self.redis.xreadgroup(GROUP, self.consumer, {keys.CASE_EVENTS: ">"}, count=100,
                                           block=block_ms if block_ms else None)
        for _, entries in resp or ():
            for entry_id, fields in entries:
                await self._handle(entry_id, fields)
                handled += 1
        return handled

    async def _handle(self, entry_id, fields) -> None:
        f = {k.decode(): v.decode() for k, v in fields.items()} if fields else {}
        kind, risk = f.get("type"), int(f.get("risk", 0) or 0)
        if kind in ("created", "raised") and f.get("case"):
            case = await self.cases.get(f["case"])
            if case is not None and kind == "created" and self.metrics:
                self.metrics.cases_created.labels(Risk(risk).name).inc()
            if case is None or case.status in ("claimed", "closed"):
                pass
            elif risk >= Risk.high and case.status == "open":
                await self.escalator.first_page(case)
                now = self.clock.now()
                if await self.cases.mark_paged(case.id, now):
                    wait = max(0.0, now - case.created_at)
                    if self.metrics:
                        self.metrics.time_to_page.labels(case.risk.name).observe(wait)
                    await self.redis.xadd(keys.TIMINGS, {"kind": "page", "seconds": repr(wait), "org": case.org,
                                                         "risk": case.risk.name, "at": repr(now)},
                                          maxlen=50_000, approximate=True)
                    log.warning("paged case=%s risk=%s org=%s after %.3fs", case.id, case.risk.name, case.org, wait)
            elif risk >= Risk.high and kind == "raised" and case.status == "paged":
                await self.escalator.raised(case)
            elif kind == "created" and risk == Risk.medium and self.followups is not None:
                due = self.roster.next_service_time(case.org, self.clock.now()) if self.roster else self.clock.now()
                await self.followups.schedule(case.user, due, "callback", case_id=case.id, org=case.org,
                                              channel=case.channel, fid=f"cb-{case.id}")
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
