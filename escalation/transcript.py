"""A user's conversation as a Redis stream; text sealed at rest, kept for a retention period."""
from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from core import keys
from core.seal import Sealer

ROLES = ("user", "bot", "safety", "staff", "system")
RETENTION_S = 90 * 24 * 3600          # with consent, or when a case needs the conversation
UNCONSENTED_RETENTION_S = 24 * 3600    # before consent: kept only long enough to hand over a crisis
MAX_ENTRIES = 2000


@dataclass(frozen=True)
class Entry:
    id: str
    role: str
    text: str
    at: float
    risk: str = ""
    options: str = ""   # JSON of the options shown with a bot message, for the web chat


class Transcript:
    def __init__(self, redis: Redis, sealer: Sealer):
        self.redis = redis
        self.sealer = sealer

    async def append(self, user: str, role: str, text: str, at: float, risk: str = "", options: str = "",
                     retention_s: int = RETENTION_S) -> str:
        return (await self.append_many(user, [(role, text, at, risk, options)], retention_s))[0]

    async def append_many(self, user: str, items: list[tuple[str, str, float, str, str]],
                          retention_s: int = RETENTION_S) -> list[str]:
        """Append (role, text, at, risk, options) entries in one round trip; return their ids."""
        if not items:
            return []
        key = keys.transcript(user)
        async with self.redis.pipeline(transaction=False) as pipe:
            for role, text, at, risk, options in items:
                fields = {"role": role, "text": self.sealer.seal(text), "at": repr(at), "risk": risk}
                if options:
                    fields["options"] = options
                pipe.xadd(key, fields, maxlen=MAX_ENTRIES, approximate=True)
            pipe.expire(key, retention_s)
            results = await pipe.execute()
        return [r.decode() for r in results[:-1]]

    async def read(self, user: str, after: str = "-", count: int = 500) -> list[Entry]:
        start = "-" if after in ("", "-", "0") else f"({after}"
        raw = await self.redis.xrange(keys.transcript(user), min=start, count=count)
        out = []
        for entry_id, f in raw:
            d = {k.decode(): v.decode() for k, v in f.items()}
            out.append(Entry(entry_id.decode(), d["role"], self.sealer.open(d["text"]), float(d["at"]),
                             d.get("risk", ""), d.get("options", "")))
        return out

    async def delete(self, user: str) -> None:
        await self.redis.delete(keys.transcript(user))
