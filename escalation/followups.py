"""Follow-ups (随访) and callbacks, durable in Redis; a worker delivers them when due.

The API for other modules (e.g. flows scheduling a check-in after a screening):

    fid = await runtime.followups.schedule(user, due_at, kind, case_id=None)
    pending = await runtime.followups.due(now)        # read-only: what is due by `now`

Kinds: `check_in` (a message to the user, and a reminder to staff when tied to a case),
`callback` (a `medium` case: reminds the on-duty team when service hours open; no message
to the user, who was already told someone will call back), and any other kind: a check-in
message to the user (text from CHECK_IN_TEXTS, else the generic one).
A due follow-up is taken with a lease, so a worker dying mid-delivery leaves it to another;
user messages go to the transcript and the OUTBOX stream (sealed), like staff replies.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from redis.asyncio import Redis

from core import keys
from core.seal import Sealer

log = logging.getLogger("xinyi.followups")

CHECK_IN_TEXTS = {
    "check_in": ("你好，我是工会职工心灵驿站的心驿。前几天你和我们的值班老师聊过，想问问你这几天怎么样？"
                 "愿意的话回复我几句；需要和老师再聊，回复「人工」即可。如果感觉撑不住，请随时拨打 12356（24 小时）。"),
    "screening_recheck": ("你好，我是心驿。距离上次的心情小测已经两周了，想邀请你再做一次，看看最近的变化。"
                          "回复「测评」就可以开始。"),
}
GENERIC_TEXT = "你好，我是心驿，来问候一下你最近怎么样。想聊的话随时回复我。"
STAFF_REMINDER_KINDS = ("check_in", "callback")
LEASE_S = 60

_LEASE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(due) do redis.call('ZADD', KEYS[1], tonumber(ARGV[2]), id) end
return due
"""

_CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('ZADD', KEYS[2], tonumber(ARGV[2]), ARGV[1])
return 1
"""


@dataclass(frozen=True)
class FollowUp:
    id: str
    user: str
    due_at: float
    kind: str
    case_id: str | None
    org: str
    channel: str
    staff: str
    status: str          # pending / done / cancelled
    note: str = ""       # for staff only (sealed at rest)

    def public(self) -> dict:
        """What the console shows: no user id."""
        return {"id": self.id, "due_at": self.due_at, "kind": self.kind, "case": self.case_id, "org": self.org,
                "staff": self.staff, "status": self.status, "note": self.note}


class FollowUps:
    def __init__(self, redis: Redis, sealer: Sealer | None = None, transcript=None, clock=None):
        from core.clock import SystemClock
        self.redis = redis
        self.sealer = sealer
        self.transcript = transcript
        self.clock = clock or SystemClock()
        self._lease = redis.register_script(_LEASE)
        self._create = redis.register_script(_CREATE)

    async def schedule(self, user: str, due_at: float, kind: str = "check_in", case_id: str | None = None, *,
                       org: str = "", channel: str = "", staff: str = "", note: str = "",
                       fid: str | None = None) -> str:
        """Schedule one follow-up; with `fid`, scheduling twice is a no-op (idempotent). Returns its id."""
        if not user or not kind:
            raise ValueError("a follow-up needs a user and a kind")
        if fid is None:
            fid = f"f{await self.redis.incr(keys.FOLLOWUP_SEQ)}"
        if case_id and (not org or not channel):
            h = await self.redis.hmget(keys.case(case_id), "org", "channel")
            org = org or (h[0] or b"").decode()
            channel = channel or (h[1] or b"").decode()
        fields = {"id": fid, "user": user, "due_at": repr(float(due_at)), "kind": kind, "case": case_id or "",
                  "org": org, "channel": channel, "staff": staff, "status": "pending",
                  "note": self.sealer.seal(note) if note and self.sealer else ""}
        flat = [x for kv in fields.items() for x in kv]
        if not await self._create(keys=[keys.followup(fid), keys.FOLLOWUPS_DUE], args=[fid, repr(float(due_at)), *flat]):
            return fid
        if case_id:
            await self.redis.xadd(keys.case_history(case_id), {
                "at": repr(self.clock.now()), "actor": staff or "system", "event": "follow_up_scheduled",
                "kind": kind, "due": repr(float(due_at))})
        log.info("follow-up scheduled id=%s kind=%s case=%s", fid, kind, case_id or "-")
        return fid

    async def get(self, fid: str) -> FollowUp | None:
        h = await self.redis.hgetall(keys.followup(fid))
        if not h or b"user" not in h:
            return None
        d = {k.decode(): v.decode() for k, v in h.items()}
        note = self.sealer.open(d["note"]) if d.get("note") and self.sealer else ""
        return FollowUp(d["id"], d["user"], float(d["due_at"]), d["kind"], d.get("case") or None, d.get("org", ""),
                        d.get("channel", ""), d.get("staff", ""), d.get("status", "pending"), note)

    async def due(self, now: float, limit: int = 100) -> list[FollowUp]:
        ids = await self.redis.zrangebyscore(keys.FOLLOWUPS_DUE, "-inf", now, start=0, num=limit)
        out = [await self.get(i.decode()) for i in ids]
        return [f for f in out if f is not None and f.status == "pending"]

    async def upcoming(self, limit: int = 200) -> list[FollowUp]:
        ids = await self.redis.zrange(keys.FOLLOWUPS_DUE, 0, limit - 1)
        out = [await self.get(i.decode()) for i in ids]
        return [f for f in out if f is not None and f.status == "pending"]

    async def cancel(self, fid: str) -> None:
        await self.redis.zrem(keys.FOLLOWUPS_DUE, fid)
        await self.redis.hset(keys.followup(fid), "status", "cancelled")

    async def run_due(self, escalator=None, cases=None, metrics=None, limit: int = 100) -> int:
        """Deliver every due follow-up: remind staff (pages), check in with the user (OUTBOX)."""
        now = self.clock.now()
        ids = await self._lease(keys=[keys.FOLLOWUPS_DUE], args=[repr(now), repr(now + LEASE_S), limit])
        done = 0
        for raw in ids:
            fid = raw.decode() if isinstance(raw, bytes) else raw
            f = await self.get(fid)
            if f is None or f.status != "pending":
                await self.redis.zrem(keys.FOLLOWUPS_DUE, fid)
                continue
            await self._deliver(f, now, escalator, cases)
            await self.redis.hset(keys.followup(fid), mapping={"status": "done", "done_at": repr(now)})
            await self.redis.zrem(keys.FOLLOWUPS_DUE, fid)
            if metrics:
                metrics.followups.labels(f.kind).inc()
            done += 1
        return done

    async def _deliver(self, f: FollowUp, now: float, escalator, cases) -> None:
        case = await cases.get(f.case_id) if (cases and f.case_id) else None
        if f.kind == "callback" and case is not None and case.status in ("claimed", "closed"):
            log.info("callback not needed id=%s case=%s (%s)", f.id, case.id, case.status)
            return
        if escalator is not None and case is not None and f.kind in STAFF_REMINDER_KINDS:
            route = escalator.route(case.org, now)
            tier = "callback" if f.kind == "callback" else "follow_up"
            targets = tuple(dict.fromkeys(((f.staff,) if f.staff else ()) + route.on_duty)) or route.supervisors
            await escalator._send(case, route, tier, f"fu-{f.id}", targets, 0)
        if f.kind != "callback":
            await self._check_in(f, now)
        log.info("follow-up delivered id=%s kind=%s case=%s", f.id, f.kind, f.case_id or "-")

    async def _check_in(self, f: FollowUp, now: float) -> None:
        text = CHECK_IN_TEXTS.get(f.kind, GENERIC_TEXT)
        if self.transcript is not None:
            await self.transcript.append(f.user, "bot", text, now)
        if self.sealer is not None:
            await self.redis.xadd(keys.OUTBOX, {"user": f.user, "channel": f.channel, "case": f.case_id or "",
                                                "text": self.sealer.seal(text), "at": repr(now), "kind": "follow_up"},
                                  maxlen=100_000, approximate=True)
