"""Durable cases in Redis: one open case per user, later crisis messages join it.

Lifecycle (design.md): open → paged → claimed → closed (with a disposition).
Every transition is recorded in the case's history stream with who and when.
Creation and joining run as one Lua script, so a crash can never leave half a case.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from redis.asyncio import Redis

from core import keys
from nlu.risk import Risk

DISPOSITIONS = ("resolved", "referred", "emergency", "follow_up", "false_alarm")
STATUSES = ("open", "paged", "claimed", "closed")
RANK_STEP = 1e11  # queue score = (imminent - risk) * RANK_STEP + created_at: risk first, then age


def rank(risk: int, created_at: float) -> float:
    return (int(Risk.imminent) - int(risk)) * RANK_STEP + created_at


_OPEN_OR_JOIN = """
local prefix, user, channel, org, risk, category, signals, now, actor = unpack(ARGV)
risk = tonumber(risk)
local id = redis.call('GET', KEYS[1])
if id then
  local key = prefix .. ':case:' .. id
  local cur = tonumber(redis.call('HGET', key, 'risk'))
  local event = 'joined'
  if risk > cur then
    event = 'raised'
    local created = tonumber(redis.call('HGET', key, 'created_at'))
    redis.call('HSET', key, 'risk', risk, 'category', category, 'signals', signals, 'updated_at', now)
    redis.call('ZADD', KEYS[3], (4 - risk) * 1e11 + created, id)
    redis.call('XADD', KEYS[4], '*', 'type', 'raised', 'case', id, 'risk', risk)
  end
  redis.call('HINCRBY', key, 'messages', 1)
  redis.call('XADD', key .. ':history', '*', 'at', now, 'actor', actor, 'event', event, 'risk', risk)
  return {id, 0, event == 'raised' and 1 or 0}
end
id = 'c' .. redis.call('INCR', KEYS[2])
local key = prefix .. ':case:' .. id
redis.call('SET', KEYS[1], id)
redis.call('HSET', key, 'id', id, 'user', user, 'channel', channel, 'org', org, 'risk', risk,
  'category', category, 'signals', signals, 'status', 'open', 'created_at', now, 'updated_at', now,
  'messages', 1)
redis.call('ZADD', KEYS[3], (4 - risk) * 1e11 + tonumber(now), id)
redis.call('XADD', key .. ':history', '*', 'at', now, 'actor', actor, 'event', 'created', 'risk', risk)
redis.call('XADD', KEYS[4], '*', 'type', 'created', 'case', id, 'risk', risk)
return {id, 1, 0}
"""

_TRANSITION = """
local prefix, id, to, actor, now, extra_k, extra_v = unpack(ARGV)
local key = prefix .. ':case:' .. id
local status = redis.call('HGET', key, 'status')
if not status then return {err = 'no such case'} end
local allowed = {
  paged = {open = true},
  claimed = {open = true, paged = true},
  closed = {open = true, paged = true, claimed = true},
  released = {claimed = true},
}
if not allowed[to][status] then return {status} end
local new = to
if to == 'released' then new = 'paged' end
redis.call('HSET', key, 'status', new, 'updated_at', now)
if to == 'paged' then redis.call('HSET', key, 'paged_at', now) end
if to == 'claimed' then redis.call('HSET', key, 'claimed_by', actor, 'claimed_at', now) end
if to == 'closed' then
  redis.call('HSET', key, 'closed_at', now, 'closed_by', actor, 'disposition', extra_v)
  redis.call('ZREM', KEYS[1], id)
  redis.call('ZADD', KEYS[2], tonumber(now), id)
  local user = redis.call('HGET', key, 'user')
  local open_key = prefix .. ':user:' .. user .. ':open_case'
  if redis.call('GET', open_key) == id then redis.call('DEL', open_key) end
end
redis.call('XADD', key .. ':history', '*', 'at', now, 'actor', actor, 'event', to, extra_k, extra_v)
redis.call('XADD', KEYS[3], '*', 'type', to, 'case', id)
return {'ok'}
"""

_TRANSFER = """
local prefix, id, kind, actor, to, now, as_supervisor = unpack(ARGV)
local key = prefix .. ':case:' .. id
local status = redis.call('HGET', key, 'status')
if not status then return {err = 'no such case'} end
if status == 'closed' then return {'closed'} end
if kind == 'staff' then
  if status ~= 'claimed' then return {status} end
  local owner = redis.call('HGET', key, 'claimed_by')
  if owner ~= actor and as_supervisor ~= '1' then return {'not_yours'} end
  redis.call('HSET', key, 'claimed_by', to, 'updated_at', now)
  redis.call('XADD', key .. ':history', '*', 'at', now, 'actor', actor, 'event', 'transferred', 'to', to, 'from', owner)
else
  if status == 'claimed' and redis.call('HGET', key, 'claimed_by') ~= actor and as_supervisor ~= '1' then
    return {'not_yours'}
  end
  local from = redis.call('HGET', key, 'org')
  local new = status
  if status == 'claimed' then new = 'paged' end
  redis.call('HSET', key, 'org', to, 'status', new, 'updated_at', now)
  redis.call('HDEL', key, 'claimed_by', 'claimed_at')
  redis.call('XADD', key .. ':history', '*', 'at', now, 'actor', actor, 'event', 'transferred_org', 'to', to, 'from', from)
end
redis.call('XADD', KEYS[1], '*', 'type', 'transferred', 'case', id)
return {'ok'}
"""


@dataclass
class Case:
    id: str
    user: str
    channel: str
    org: str
    risk: Risk
    category: str
    status: str
    created_at: float
    updated_at: float
    messages: int = 0
    signals: list[str] = field(default_factory=list)
    paged_at: float | None = None
    claimed_by: str | None = None
    claimed_at: float | None = None
    closed_at: float | None = None
    disposition: str | None = None

    @classmethod
    def from_hash(cls, h: dict[str, str]) -> "Case":
        opt = lambda k: float(h[k]) if h.get(k) else None  # noqa: E731
        return cls(
            id=h["id"], user=h["user"], channel=h["channel"], org=h.get("org", ""),
            risk=Risk(int(h["risk"])), category=h.get("category", "none"), status=h["status"],
            created_at=float(h["created_at"]), updated_at=float(h["updated_at"]),
            messages=int(h.get("messages", 0)), signals=json.loads(h.get("signals") or "[]"),
            paged_at=opt("paged_at"), claimed_by=h.get("claimed_by") or None, claimed_at=opt("claimed_at"),
            closed_at=opt("closed_at"), disposition=h.get("disposition") or None,
        )


@dataclass(frozen=True)
class Opened:
    case_id: str
    created: bool
    raised: bool


class TransitionRefused(Exception):
    """The case is not in a state that allows this transition (e.g. already claimed)."""


class CaseStore:
    def __init__(self, redis: Redis):
        self.redis = redis
        self._open_or_join = redis.register_script(_OPEN_OR_JOIN)
        self._transition = redis.register_script(_TRANSITION)
        self._transfer = redis.register_script(_TRANSFER)

    async def open_or_join(self, user: str, channel: str, org: str, risk: Risk, category: str,
                           signals: list[str], now: float, actor: str = "bot") -> Opened:
        case_id, created, raised = await self._open_or_join(
            keys=[keys.open_case_of(user), keys.CASE_SEQ, keys.OPEN_CASES, keys.CASE_EVENTS],
            args=[keys.PREFIX, user, channel, org, int(risk), category,
                  json.dumps(signals, ensure_ascii=False), repr(now), actor],
        )
        return Opened(case_id.decode() if isinstance(case_id, bytes) else case_id, bool(created), bool(raised))

    async def get(self, case_id: str) -> Case | None:
        h = await self.redis.hgetall(keys.case(case_id))
        if not h:
            return None
        return Case.from_hash({k.decode(): v.decode() for k, v in h.items()})

    async def open_case_of(self, user: str) -> Case | None:
        case_id = await self.redis.get(keys.open_case_of(user))
        return await self.get(case_id.decode()) if case_id else None

    async def queue(self, limit: int = 200) -> list[Case]:
        """Open cases, highest risk first, then oldest."""
        ids = await self.redis.zrange(keys.OPEN_CASES, 0, limit - 1)
        cases = [await self.get(i.decode()) for i in ids]
        return [c for c in cases if c is not None]

    async def history(self, case_id: str) -> list[dict[str, str]]:
        entries = await self.redis.xrange(keys.case_history(case_id))
        return [{k.decode(): v.decode() for k, v in fields.items()} for _, fields in entries]

    async def _move(self, case_id: str, to: str, actor: str, now: float, extra: tuple[str, str] = ("note", "")) -> None:
        result = await self._transition(
            keys=[keys.OPEN_CASES, keys.CLOSED_CASES, keys.CASE_EVENTS],
            args=[keys.PREFIX, case_id, to, actor, repr(now), extra[0], extra[1]],
        )
        status = result[0].decode() if isinstance(result[0], bytes) else result[0]
        if status != "ok":
            raise TransitionRefused(f"case {case_id} is {status}; cannot become {to}")

    async def mark_paged(self, case_id: str, now: float, actor: str = "pager") -> bool:
        try:
            await self._move(case_id, "paged", actor, now)
            return True
        except TransitionRefused:
            return False

    async def claim(self, case_id: str, staff: str, now: float) -> None:
        await self._move(case_id, "claimed", staff, now)

    async def release(self, case_id: str, staff: str, now: float) -> None:
        await self._move(case_id, "released", staff, now)

    async def close(self, case_id: str, staff: str, disposition: str, now: float) -> None:
        if disposition not in DISPOSITIONS:
            raise ValueError(f"disposition must be one of {', '.join(DISPOSITIONS)}")
        await self._move(case_id, "closed", staff, now, ("disposition", disposition))

    async def record(self, case_id: str, actor: str, event: str, now: float, **extra: str) -> None:
        await self.redis.xadd(keys.case_history(case_id), {"at": repr(now), "actor": actor, "event": event,
                                                           **{k: str(v) for k, v in extra.items()}})

    async def transfer_to_staff(self, case_id: str, actor: str, to: str, now: float,
                                as_supervisor: bool = False) -> None:
        """Hand a claimed case to a colleague (its owner may; a supervisor may for anyone)."""
        await self._run_transfer(case_id, "staff", actor, to, now, as_supervisor)

    async def transfer_to_org(self, case_id: str, actor: str, org: str, now: float,
                              as_supervisor: bool = False) -> None:
        """Move a case to another organisation's team: it becomes unclaimed there and is paged anew."""
        await self._run_transfer(case_id, "org", actor, org, now, as_supervisor)

    async def _run_transfer(self, case_id, kind, actor, to, now, as_supervisor) -> None:
        result = await self._transfer(keys=[keys.CASE_EVENTS],
                                      args=[keys.PREFIX, case_id, kind, actor, to, repr(now), "1" if as_supervisor else "0"])
        status = result[0].decode() if isinstance(result[0], bytes) else result[0]
        if status != "ok":
            raise TransitionRefused(f"case {case_id} is {status}; cannot transfer")
