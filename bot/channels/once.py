"""Process a platform delivery once across workers, and answer its retries consistently.

WeChat retries a message three times when no answer came within 5 s; the retries may
reach any worker. One Redis key per delivery holds its state:

    p:<token>   being processed by the worker holding <token> (a short lease: if that
                worker dies, the key expires and a later retry processes the message)
    c:<token>   still being processed, but its answer will go out as a push message
                (a retry gave up waiting, or the owner ran out of its reply budget)
    d:<sealed>  done; the passive answer (sealed — it is message text) every retry gets
    s           done; the answer went out as push messages: retries answer `success`
"""
from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass

from redis.asyncio import Redis

from core import keys
from core.seal import Sealer

LEASE_S = 20
DONE_TTL_S = 600

_FINISH = """
local v = redis.call('GET', KEYS[1])
if v == 'p:' .. ARGV[1] then
  redis.call('SET', KEYS[1], 'd:' .. ARGV[2], 'EX', ARGV[3]); return 'passive'
end
if v == 'c:' .. ARGV[1] or not v then
  redis.call('SET', KEYS[1], 's', 'EX', ARGV[3]); return 'push'
end
return 'other'
"""

_TO_PUSH = """
local v = redis.call('GET', KEYS[1])
if not v then return '' end
if string.sub(v, 1, 2) == 'p:' then
  v = 'c:' .. string.sub(v, 3)
  redis.call('SET', KEYS[1], v, 'KEEPTTL')
end
return v
"""


@dataclass(frozen=True)
class State:
    kind: str              # "owner", "passive", "push", "pending"
    token: str = ""
    reply: str = ""        # the passive answer, for kind "passive"


class Once:
    def __init__(self, redis: Redis, sealer: Sealer, channel: str, lease_s: int = LEASE_S,
                 done_ttl_s: int = DONE_TTL_S):
        self.redis = redis
        self.sealer = sealer
        self.channel = channel
        self.lease_s = lease_s
        self.done_ttl_s = done_ttl_s
        self._finish = redis.register_script(_FINISH)
        self._to_push = redis.register_script(_TO_PUSH)

    def key(self, message_key: str) -> str:
        return keys.inbound_once(self.channel, message_key)

    async def begin(self, message_key: str) -> State:
        token = secrets.token_hex(8)
        if await self.redis.set(self.key(message_key), f"p:{token}", nx=True, ex=self.lease_s):
            return State("owner", token)
        return await self.state(message_key)

    async def state(self, message_key: str) -> State:
        raw = await self.redis.get(self.key(message_key))
        return self._decode(raw)

    def _decode(self, raw) -> State:
        if raw is None:
            return State("gone")
        v = raw.decode() if isinstance(raw, bytes) else raw
        if v.startswith("d:"):
            return State("passive", reply=self.sealer.open(v[2:]) if len(v) > 2 else "")
        if v == "s" or v.startswith("c:"):
            return State("push")
        return State("pending")

    async def finish(self, message_key: str, token: str, reply: str) -> str:
        """The owner's answer is ready: 'passive' (answer now), 'push' (send it), 'other' (someone else did)."""
        sealed = self.sealer.seal(reply) if reply else ""
        result = await self._finish(keys=[self.key(message_key)], args=[token, sealed, self.done_ttl_s])
        return result.decode() if isinstance(result, bytes) else result

    async def give_up_waiting(self, message_key: str) -> State:
        """No answer within the budget: the answer will be pushed (unless it just became ready)."""
        raw = await self._to_push(keys=[self.key(message_key)])
        return self._decode(raw or None)

    async def wait(self, message_key: str, deadline: float, poll_s: float = 0.025) -> State:
        """A retry waits for the owner's answer until `deadline` (time.monotonic())."""
        while True:
            st = await self.state(message_key)
            if st.kind != "pending" or time.monotonic() >= deadline:
                return st
            await asyncio.sleep(poll_s)

    async def first(self, message_key: str, ttl_s: int = 24 * 3600) -> bool:
        """Simple dedup (no answer to repeat): True for the first delivery only."""
        return bool(await self.redis.set(self.key(message_key), "1", nx=True, ex=ttl_s))

    async def forget(self, message_key: str) -> None:
        await self.redis.delete(self.key(message_key))
