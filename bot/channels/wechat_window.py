"""WeChat's customer-service message window: 48 hours after the user's last message, at most
5 messages per user message. Tracked in Redis so every worker sees the same count."""
from __future__ import annotations

from redis.asyncio import Redis

from core import keys

WINDOW_S = 48 * 3600
PER_MESSAGE = 5

_RESERVE = """
local last = tonumber(redis.call('HGET', KEYS[1], 'last_in') or '0')
if tonumber(ARGV[1]) - last > tonumber(ARGV[2]) then return 'closed' end
local sent = redis.call('HINCRBY', KEYS[1], 'sent', 1)
if sent > tonumber(ARGV[3]) then
  redis.call('HINCRBY', KEYS[1], 'sent', -1)
  return 'quota'
end
return 'ok'
"""

REASONS = {"closed": "48-hour customer-service window closed (the user has not written for 48 h)",
           "quota": "5 customer-service messages already sent since the user's last message"}


class ServiceWindow:
    def __init__(self, redis: Redis, window_s: int = WINDOW_S, per_message: int = PER_MESSAGE):
        self.redis = redis
        self.window_s = window_s
        self.per_message = per_message
        self._reserve = redis.register_script(_RESERVE)

    async def opened(self, user: str, now: float) -> None:
        """The user wrote (or clicked, subscribed, scanned): a fresh window and quota."""
        key = keys.wechat_window(user)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"last_in": repr(now), "sent": 0})
            pipe.expire(key, self.window_s + 3600)
            await pipe.execute()

    async def reserve(self, user: str, now: float) -> str:
        """'ok' (one message may go out), 'closed' or 'quota'."""
        result = await self._reserve(keys=[keys.wechat_window(user)], args=[repr(now), self.window_s, self.per_message])
        return result.decode() if isinstance(result, bytes) else result

    async def release(self, user: str) -> None:
        """A reserved message was not sent after all."""
        await self.redis.hincrby(keys.wechat_window(user), "sent", -1)

    async def remaining(self, user: str, now: float) -> int:
        h = await self.redis.hgetall(keys.wechat_window(user))
        if not h or now - float(h.get(b"last_in", 0)) > self.window_s:
            return 0
        return max(0, self.per_message - int(h.get(b"sent", 0)))
