"""Handoff relay: a staff member's words reach the user's chat.

Every message lands in the transcript (pull channels — web, terminal — read it there) and
in the outbox stream, from which push channels (WeChat, Telegram) deliver it.
"""
from __future__ import annotations

from redis.asyncio import Redis

from core import keys
from core.seal import Sealer
from escalation.transcript import Transcript


class Relay:
    def __init__(self, redis: Redis, transcript: Transcript, sealer: Sealer):
        self.redis = redis
        self.transcript = transcript
        self.sealer = sealer

    async def to_user(self, user: str, channel: str, text: str, at: float, case_id: str = "") -> str:
        entry = await self.transcript.append(user, "staff", text, at)
        await self.redis.xadd(keys.OUTBOX, {"user": user, "channel": channel, "case": case_id,
                                            "text": self.sealer.seal(text), "at": repr(at)},
                              maxlen=100_000, approximate=True)
        return entry
