"""The escalation workers wired together: paging, paging retries, SLA timers, follow-ups.

Every piece of state is in Redis, so any number of copies can run (in the web app's
background loop, or alone with `python -m escalation.worker`). One `run_once` does one
round of everything; `run_forever` loops with a short block on the case-event stream.
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
from dataclasses import dataclass, field

from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.clock import SystemClock
from escalation.cases import CaseStore
from escalation.escalate import Escalator
from escalation.followups import FollowUps
from escalation.metrics import EscalationMetrics
from escalation.orgs import Orgs
from escalation.pager import Pager
from escalation.paging import ConsoleNotifier, Dispatcher, WeComRobotNotifier
from escalation.roster import Roster

log = logging.getLogger("xinyi.escalation")


@dataclass
class Escalation:
    redis: Redis
    cases: CaseStore
    orgs: Orgs
    roster: Roster
    dispatcher: Dispatcher
    escalator: Escalator
    followups: FollowUps
    pager: Pager
    metrics: EscalationMetrics
    clock: object = field(default_factory=SystemClock)

    def add_notifier(self, notifier) -> None:
        """Wire another paging channel (e.g. the Telegram staff chat): `name` + `async notify(page)`."""
        self.dispatcher.add(notifier)

    async def run_once(self, block_ms: int = 500) -> int:
        n = await self.pager.run_once(block_ms=block_ms)
        n += await self.dispatcher.retry_due()
        n += await self.escalator.sla_tick()
        n += await self.followups.run_due(self.escalator, self.cases, self.metrics)
        return n

    async def run_forever(self, stop: asyncio.Event, block_ms: int = 500) -> None:
        while not stop.is_set():
            try:
                await self.run_once(block_ms)
            except asyncio.CancelledError:
                raise
            except RedisError:
                log.error("redis unavailable; escalation retries in 1 s")
                await asyncio.sleep(1)
            except Exception:
                log.exception("escalation loop error; retrying")
                await asyncio.sleep(1)


def build_escalation(redis: Redis, cases: CaseStore, orgs: Orgs, *, roster_file=None, clock=None,
                     sealer=None, transcript=None, base_url: str = "", wecom_webhook: str | None = None,
                     sla_s: dict[str, float] | None = None, notifiers: list | None = None,
                     consumer: str | None = None, claim_idle_ms: int = 15_000,
                     metrics: EscalationMetrics | None = None, retry_backoff_s=None) -> Escalation:
    clock = clock or SystemClock()
    roster = Roster.load(roster_file, orgs) if roster_file and os.path.exists(roster_file) else Roster.empty(orgs)
    metrics = metrics or EscalationMetrics()
    channels = [ConsoleNotifier(redis)]
    if wecom_webhook:
        channels.append(WeComRobotNotifier(wecom_webhook))
    channels += list(notifiers or ())
    kw = {"backoff_s": tuple(retry_backoff_s)} if retry_backoff_s else {}
    dispatcher = Dispatcher(redis, channels, metrics, clock, **kw)
    escalator = Escalator(redis, cases, orgs, roster, dispatcher, clock, metrics, base_url, sla_s)
    followups = FollowUps(redis, sealer, transcript, clock)
    pager = Pager(redis, cases, [], consumer or f"{socket.gethostname()}-{os.getpid()}", clock, claim_idle_ms,
                  escalator=escalator, followups=followups, metrics=metrics, roster=roster)
    return Escalation(redis, cases, orgs, roster, dispatcher, escalator, followups, pager, metrics, clock)
