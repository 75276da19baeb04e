"""The sealed address book: pseudonym → the channel and platform address needed to push.

Push channels (WeChat, Telegram) cannot answer a staff reply on the user's own request,
so they need the platform address (openid, chat id) the pseudonym was made from. It is
kept sealed at rest (core.seal), never logged, and refreshed on every inbound message.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from redis.asyncio import Redis

from core import keys
from core.seal import Sealer

ADDRESS_TTL_S = 180 * 24 * 3600   # a follow-up (随访) may come weeks later; refreshed on every message
STATES = ("ok", "blocked", "unsubscribed")


@dataclass(frozen=True)
class Address:
    channel: str
    address: dict = field(default_factory=dict)   # e.g. {"openid": …} or {"chat_id": …}
    lang: str | None = None
    state: str = "ok"                              # ok / blocked (bot blocked) / unsubscribed
    updated_at: float = 0.0


class AddressBook:
    def __init__(self, redis: Redis, sealer: Sealer, ttl_s: int = ADDRESS_TTL_S):
        self.redis = redis
        self.sealer = sealer
        self.ttl_s = ttl_s

    async def remember(self, user: str, channel: str, address: dict, now: float, lang: str | None = None) -> None:
        key = keys.user_profile(user)
        sealed = self.sealer.seal(json.dumps(address, ensure_ascii=False, sort_keys=True))
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"channel": channel, "addr": sealed, "lang": lang or "", "state": "ok",
                                    "updated_at": repr(now)})
            pipe.expire(key, self.ttl_s)
            await pipe.execute()

    async def get(self, user: str) -> Address | None:
        h = await self.redis.hgetall(keys.user_profile(user))
        if not h or b"addr" not in h:
            return None
        d = {k.decode(): v.decode() for k, v in h.items()}
        try:
            address = json.loads(self.sealer.open(d["addr"]))
        except ValueError:   # sealed with another key (rotated): unusable
            return None
        return Address(d.get("channel", ""), address, d.get("lang") or None, d.get("state", "ok"),
                       float(d.get("updated_at") or 0))

    async def mark(self, user: str, state: str) -> None:
        if state not in STATES:
            raise ValueError(f"state must be one of {STATES}")
        key = keys.user_profile(user)
        if await self.redis.exists(key):
            await self.redis.hset(key, "state", state)

    async def forget(self, user: str) -> None:
        await self.redis.delete(keys.user_profile(user))
