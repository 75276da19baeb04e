"""Staff-side test helpers: accounts, the open queue, and what the console does when a staff member
claims a case and replies (escalation.relay), done directly against Redis so channel tests do not
depend on the console's pages."""
from __future__ import annotations

import asyncio
import time

import redis as sync_redis
from redis.asyncio import Redis

from core import keys

from core.seal import Sealer
from escalation.cases import CaseStore
from escalation.relay import Relay
from escalation.staff import account_fields
from escalation.transcript import Transcript


def create_staff(redis_url: str, username: str, password: str, org: str = "city", role: str = "staff") -> None:
    """StaffStore.create, synchronously (callable from sync and async tests alike)."""
    r = sync_redis.Redis.from_url(redis_url)
    try:
        r.hset(keys.staff(username), mapping=account_fields(password, username, role, org))
        r.sadd(keys.STAFF_INDEX, username)
    finally:
        r.close()


def open_cases(redis_url: str) -> list[str]:
    r = sync_redis.Redis.from_url(redis_url)
    try:
        return [i.decode() for i in r.zrange(keys.OPEN_CASES, 0, -1)]
    finally:
        r.close()


def staff_reply(settings, redis_url: str, case_id: str, text: str, staff: str = "duty1") -> None:
    async def go():
        r = Redis.from_url(redis_url)
        try:
            sealer = Sealer(settings.data_key.get_secret_value())
            cases = CaseStore(r)
            case = await cases.get(case_id)
            if case.status != "claimed":
                await cases.claim(case_id, staff, time.time())
            await Relay(r, Transcript(r, sealer), sealer).to_user(case.user, case.channel, text, time.time(), case_id)
            await cases.record(case_id, staff, "replied", time.time())
        finally:
            await r.aclose()
    asyncio.run(go())


def case_history(redis_url: str, case_id: str) -> list[dict]:
    async def go():
        r = Redis.from_url(redis_url)
        try:
            return await CaseStore(r).history(case_id)
        finally:
            await r.aclose()
    return asyncio.run(go())


def undelivered(redis_url: str, case_id: str) -> list[dict]:
    return [h for h in case_history(redis_url, case_id) if "not_delivered" in h.get("event", "")]
