"""Who gets paged, and when again: routing over the roster, SLA re-escalation, transfers.

Tiers of one unclaimed `high`/`imminent` case (SLA: imminent 60 s, high 180 s by default):
  round 0  on_duty     the on-duty person of the case's team (or of the nearest ancestor with one)
  round 1  repeat      the on-duty person again, and the backup
  round 2  supervisor  the shift supervisor and the team's supervisors (with on-duty and backup)
  round 3+ chain       the whole supervisor chain up the organisation tree, every SLA period
Nobody on duty anywhere up the tree: `no_duty` pages the supervisor chain every SLA period,
the case stays at the top of the queue, and the next shift is paged when it starts.
SLA timers are a Redis sorted set taken with a lease, so a dead worker's timer fires again.
"""
from __future__ import annotations

import logging

from redis.asyncio import Redis

from core import keys
from escalation.cases import Case, CaseStore
from escalation.orgs import Orgs
from escalation.paging import Dispatcher, Page
from escalation.roster import Roster, Route
from nlu.risk import Risk

log = logging.getLogger("xinyi.escalate")
DEFAULT_SLA_S = {"imminent": 60.0, "high": 180.0}

_LEASE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(due) do redis.call('ZADD', KEYS[1], tonumber(ARGV[2]), id) end
return due
"""


def _uniq(*groups) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p for g in groups for p in g))


class Escalator:
    def __init__(self, redis: Redis, cases: CaseStore, orgs: Orgs | None, roster: Roster | None,
                 dispatcher: Dispatcher, clock, metrics=None, base_url: str = "",
                 sla_s: dict[str, float] | None = None, lease_s: float = 30.0):
        self.redis = redis
        self.cases = cases
        self.orgs = orgs
        self.roster = roster if roster is not None else (Roster.empty(orgs) if orgs else None)
        self.dispatcher = dispatcher
        self.clock = clock
        self.metrics = metrics
        self.base_url = base_url.rstrip("/")
        self.sla_s = dict(DEFAULT_SLA_S)
        if self.roster is not None:
            self.sla_s.update(self.roster.sla_seconds)
        self.sla_s.update(sla_s or {})
        self.lease_s = lease_s
        self._lease = redis.register_script(_LEASE)

    # -- building pages ------------------------------------------------------------------
    def route(self, org: str, now: float) -> Route:
        if self.roster is None:
            return Route(org, org, None, (), ())
        return self.roster.route(org, now)

    def _name(self, org: str | None) -> str:
        return self.orgs.name(org) if self.orgs else str(org or "")

    def page(self, case: Case, route: Route, tier: str, round_key: str, targets: tuple[str, ...]) -> Page:
        team = route.team or route.org
        return Page(case_id=case.id, risk=case.risk.name, org=case.org, org_name=self._name(case.org), team=team,
                    team_name=self._name(team), tier=tier, round_key=round_key, targets=targets,
                    link=f"{self.base_url}/console/case/{case.id}", at=self.clock.now())

    def sla_for(self, risk: Risk) -> float | None:
        return self.sla_s.get(risk.name)

    async def _send(self, case: Case, route: Route, tier: str, round_key: str, targets: tuple[str, ...],
                    round_no: int) -> Page:
        page = self.page(case, route, tier, round_key, targets)
        results = await self.dispatcher.send(page)
        if all(r == "duplicate" for r in results.values()) and results:
            return page  # this round went out before (a re-read event): record nothing twice
        now = self.clock.now()
        await self.cases.redis.xadd(keys.case_history(case.id), {
            "at": repr(now), "actor": "pager", "event": "page", "tier": tier, "round": str(round_no),
            "team": route.team or "", "targets": ",".join(targets) or "-",
            "channels": ",".join(f"{k}:{v}" for k, v in results.items()) or "-"})
        log.warning("page case=%s risk=%s tier=%s team=%s targets=%d", case.id, case.risk.name, tier,
                    route.team or "-", len(targets))
        return page

    async def _schedule(self, case: Case, route: Route, round_no: int, now: float) -> None:
        sla = self.sla_for(case.risk)
        if sla is None:
            await self.redis.zrem(keys.SLA_DUE, case.id)
            return
        due = now + sla
        if route.team is None and self.roster is not None:
            nxt = self.roster.next_shift_in_chain(case.org, now)
            if nxt is not None:
                due = min(due, nxt + 0.001)
        await self.redis.hset(keys.case_paging(case.id), mapping={
            "team": route.team or "", "round": str(round_no), "due": repr(due)})
        await self.redis.zadd(keys.SLA_DUE, {case.id: due})

    # -- the lifecycle -------------------------------------------------------------------
    async def first_page(self, case: Case) -> Page:
        """Round 0 for a new high/imminent case (the caller marks it paged)."""
        now = self.clock.now()
        route = self.route(case.org, now)
        if route.team is not None:
            page = await self._send(case, route, "on_duty", "0", route.on_duty or (), 0)
        else:
            page = await self._send(case, route, "no_duty", "0", route.supervisors, 0)
        await self.redis.hset(keys.case_paging(case.id), "risk", int(case.risk))
        await self._schedule(case, route, 0, now)
        return page

    async def raised(self, case: Case) -> None:
        """A paged case's risk went up: tell the people on it now, and shorten its SLA."""
        now = self.clock.now()
        paged_risk = await self.redis.hget(keys.case_paging(case.id), "risk")
        if paged_risk is not None and int(paged_risk) >= int(case.risk):
            return  # the staff were already paged at this level (the raise came before the first page)
        await self.redis.hset(keys.case_paging(case.id), "risk", int(case.risk))
        route = self.route(case.org, now)
        targets = _uniq(route.on_duty, route.backup) if route.team else route.supervisors
        await self._send(case, route, "raised", f"raised-{int(case.risk)}", targets, 0)
        sla = self.sla_for(case.risk)
        current = await self.redis.zscore(keys.SLA_DUE, case.id)
        if sla is not None and (current is None or now + sla < current):
            await self.redis.zadd(keys.SLA_DUE, {case.id: now + sla})

    async def transferred_to_org(self, case: Case, actor: str) -> Page:
        now = self.clock.now()
        route = self.route(case.org, now)
        targets = route.on_duty if route.team else route.supervisors
        n = await self.redis.hincrby(keys.case_paging(case.id), "transfers", 1)
        page = await self._send(case, route, "transfer", f"t{n}", targets, 0)
        await self._schedule(case, route, 0, now)
        return page

    async def transferred_to_staff(self, case: Case, to: str) -> Page:
        now = self.clock.now()
        route = self.route(case.org, now)
        n = await self.redis.hincrby(keys.case_paging(case.id), "transfers", 1)
        return await self._send(case, route, "transfer", f"t{n}", (to,), 0)

    async def released(self, case: Case) -> None:
        now = self.clock.now()
        await self._schedule(case, self.route(case.org, now), 0, now)

    async def sla_tick(self, limit: int = 100) -> int:
        """Re-escalate every case whose SLA ran out unclaimed; return how many rounds were paged."""
        now = self.clock.now()
        ids = await self._lease(keys=[keys.SLA_DUE], args=[repr(now), repr(now + self.lease_s), limit])
        done = 0
        for raw in ids:
            cid = raw.decode() if isinstance(raw, bytes) else raw
            case = await self.cases.get(cid)
            if case is None or case.status not in ("open", "paged") or self.sla_for(case.risk) is None:
                await self.redis.zrem(keys.SLA_DUE, cid)
                continue
            info = {k.decode(): v.decode() for k, v in (await self.redis.hgetall(keys.case_paging(cid))).items()}
            round_no = int(info.get("round", "0")) + 1
            route = self.route(case.org, now)
            if route.team is None:
                tier, targets = "no_duty", route.supervisors
            elif not info.get("team"):
                tier, targets, round_no = "next_shift", route.on_duty, 0  # a shift began: start over with it
            elif round_no == 1:
                tier, targets = "repeat", _uniq(route.on_duty, route.backup)
            elif round_no == 2:
                sup = route.duty.supervisor if route.duty else ()
                team_sups = self.roster.teams[route.team].supervisors if route.team in self.roster.teams else ()
                tier, targets = "supervisor", _uniq(sup, team_sups or route.supervisors[:1], route.on_duty, route.backup)
            else:
                tier, targets = "chain", _uniq(route.supervisors, route.on_duty, route.backup)
            await self._send(case, route, tier, f"r{round_no}-{info.get('due', repr(now))}", targets, round_no)
            if self.metrics:
                self.metrics.escalations.labels(tier).inc()
            await self._schedule(case, route, round_no, now)
            done += 1
        return done
