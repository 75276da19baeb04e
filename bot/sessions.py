"""Per-user session state in Redis with a TTL: consent, the flow step waiting, language, org.

The whole session is sealed at rest: its variables can hold answers and contact details.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from redis.asyncio import Redis

from core import keys
from core.seal import Sealer


@dataclass
class Session:
    consent: bool | None = None          # None: not asked yet
    flow: dict | None = None             # FlowState.to_dict() of the step waiting for an answer
    org: str | None = None
    lang: str | None = None
    greeted: bool = False
    vars: dict = field(default_factory=dict)


class SessionStore:
    def __init__(self, redis: Redis, ttl_s: int, sealer: Sealer):
        self.redis = redis
        self.ttl_s = ttl_s
        self.sealer = sealer

    async def load(self, user: str) -> Session:
        raw = await self.redis.get(keys.session(user))
        if not raw:
            return Session()
        try:
            data = json.loads(self.sealer.open(raw.decode("ascii")))
        except ValueError:  # sealed with another key (rotated): start afresh rather than fail
            return Session()
        return Session(**{k: v for k, v in data.items() if k in Session.__dataclass_fields__})

    async def save(self, user: str, session: Session) -> None:
        sealed = self.sealer.seal(json.dumps(asdict(session), ensure_ascii=False))
        await self.redis.set(keys.session(user), sealed, ex=self.ttl_s)

    async def delete(self, user: str) -> None:
        await self.redis.delete(keys.session(user))
