"""What the conversation stores about a user: screening results (only with consent), booking
requests, anonymous satisfaction counts — and how a user sees and deletes their data."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass

from redis.asyncio import Redis

from core import keys
from core.seal import Sealer

RESULT_RETENTION_S = 365 * 24 * 3600
BOOKING_STATUSES = {"requested": "待确认", "confirmed": "已确认", "cancelled": "已取消"}


@dataclass(frozen=True)
class Booking:
    id: str
    user: str
    org: str
    channel: str
    slot: str
    slot_label: str
    contact: str
    contact_label: str
    phone: str
    created_at: float
    status: str = "requested"
    handled_by: str = ""

    def public(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k != "user"}
        d["status_label"] = BOOKING_STATUSES.get(self.status, self.status)
        return d


class UserData:
    def __init__(self, redis: Redis, sealer: Sealer):
        self.redis = redis
        self.sealer = sealer

    # -- screening results ---------------------------------------------------------------
    async def add_result(self, user: str, scale: str, score: int, band: str, at: float) -> None:
        key = keys.results(user)
        record = json.dumps({"scale": scale, "score": score, "band": band, "at": at}, ensure_ascii=False)
        await self.redis.rpush(key, self.sealer.seal(record))
        await self.redis.expire(key, RESULT_RETENTION_S)

    async def results(self, user: str) -> list[dict]:
        return [json.loads(self.sealer.open(r.decode())) for r in await self.redis.lrange(keys.results(user), 0, -1)]

    # -- bookings ------------------------------------------------------------------------------
    async def add_booking(self, user: str, org: str, channel: str, vars: dict, at: float) -> Booking:
        bid = f"b{await self.redis.incr(keys.BOOKING_SEQ)}"
        phone = str(vars.get("phone") or "") if vars.get("contact") in ("phone", "sms") else ""
        b = Booking(bid, user, org, channel, str(vars.get("slot", "")), str(vars.get("slot_label", "")),
                    str(vars.get("contact", "chat")), str(vars.get("contact_label", "")), phone, at)
        fields = {k: v for k, v in b.__dict__.items()}
        fields["phone"] = self.sealer.seal(phone) if phone else ""
        fields["created_at"] = repr(at)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.booking(bid), mapping=fields)
            pipe.zadd(keys.BOOKINGS, {bid: at})
            pipe.sadd(keys.user_bookings(user), bid)
            await pipe.execute()
        return b

    async def booking(self, bid: str) -> Booking | None:
        h = await self.redis.hgetall(keys.booking(bid))
        if not h:
            return None
        d = {k.decode(): v.decode() for k, v in h.items()}
        d["phone"] = self.sealer.open(d["phone"]) if d.get("phone") else ""
        d["created_at"] = float(d["created_at"])
        return Booking(**{k: d.get(k, "") for k in Booking.__dataclass_fields__})

    async def bookings(self, limit: int = 500) -> list[Booking]:
        ids = await self.redis.zrevrange(keys.BOOKINGS, 0, limit - 1)
        out = [await self.booking(i.decode()) for i in ids]
        return [b for b in out if b is not None]

    async def bookings_of(self, user: str) -> list[Booking]:
        out = [await self.booking(i.decode()) for i in await self.redis.smembers(keys.user_bookings(user))]
        return sorted((b for b in out if b is not None), key=lambda b: b.created_at)

    async def set_booking_status(self, bid: str, status: str, staff: str) -> None:
        if status not in BOOKING_STATUSES:
            raise ValueError(f"status must be one of {', '.join(BOOKING_STATUSES)}")
        await self.redis.hset(keys.booking(bid), mapping={"status": status, "handled_by": staff})

    # -- satisfaction (anonymous: a count per module and rating, no user) -----------------------
    async def rate(self, about: str, rating: str) -> None:
        await self.redis.hincrby(keys.SATISFACTION, f"{about or 'unknown'}:{rating}", 1)

    async def satisfaction(self) -> dict[str, int]:
        return {k.decode(): int(v) for k, v in (await self.redis.hgetall(keys.SATISFACTION)).items()}

    # -- the user's own view and deletion ----------------------------------------------------
    async def summary(self, user: str, transcript_len: int, consent, lang: str | None) -> str:
        results = await self.results(user)
        bookings = await self.bookings_of(user)
        en = lang == "en"
        lines = ["We hold:" if en else "我们为你保存的内容："]
        lines.append((f"· Conversation: {transcript_len} messages (encrypted)" if en
                      else f"· 对话记录：{transcript_len} 条（加密保存）"))
        consent_text = {True: ("given", "已同意"), False: ("not given", "未同意"), None: ("not asked", "未回答")}[consent]
        lines.append(f"· Consent: {consent_text[0]}" if en else f"· 知情同意：{consent_text[1]}")
        if results:
            for r in results:
                day = time.strftime("%Y-%m-%d", time.localtime(r["at"]))
                lines.append(f"· {r['scale'].upper()} {day}: {r['score']} ({r['band']})" if en
                             else f"· 自评 {r['scale'].upper()}（{day}）：{r['score']} 分，{r['band']}")
        else:
            lines.append("· Self-check results: none" if en else "· 自评结果：无")
        for b in bookings:
            lines.append(f"· Booking {b.id}: {b.slot_label} ({b.status})" if en
                         else f"· 预约 {b.id}：{b.slot_label}（{BOOKING_STATUSES.get(b.status, b.status)}）")
        if not bookings:
            lines.append("· Bookings: none" if en else "· 预约：无")
        return "\n".join(lines)

    async def forget(self, user: str) -> None:
        """Delete results and booking requests (the transcript and session are the router's to delete)."""
        ids = [i.decode() for i in await self.redis.smembers(keys.user_bookings(user))]
        async with self.redis.pipeline(transaction=True) as pipe:
            for bid in ids:
                pipe.delete(keys.booking(bid))
                pipe.zrem(keys.BOOKINGS, bid)
            pipe.delete(keys.user_bookings(user), keys.results(user))
            await pipe.execute()
