"""What the staff console does when a staff member claims a case and replies (escalation.relay),
done directly against Redis so channel tests do not depend on the console's pages."""
from __future__ import annotations

import asyncio
import time

from redis.asyncio import Redis

from core.seal import Sealer
from escalation.cases import CaseStore
from escalation.relay import Relay
from escalation.transcript import Transcript


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
