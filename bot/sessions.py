"""Per-user session state in Redis with a TTL: consent, the flow step waiting, language, org."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from redis.asyncio import Redis

from core import keys


@dataclass
class Session:
    consent: bool | None = None          # None: not asked yet
    flow: dict | None = None             # FlowState.to_dict() of the step waiting for an answer
    org: str | None = None
    lang: str | None = None
    greeted: bool = False
    vars: dict = field(default_factory=dict)


class SessionStore:
    def __init__(self, redis: Redis, ttl_s: int):
        self.redis = redis
        self.ttl_s = ttl_s

    async def load(self, user: str) -> Session:
        raw = await self.redis.get(keys.session(user))
        if not raw:
            return Session()
        data = json.loads(raw)
        return Session(**{k: v for k, v in data.items() if k in Session.__dataclass_fields__})

    async def save(self, user: str, session: Session) -> None:
        await self.redis.set(keys.session(user), json.dumps(asdict(session), ensure_ascii=False), ex=self.ttl_s)

    async def delete(self, user: str) -> None:
        await self.redis.delete(keys.session(user))
