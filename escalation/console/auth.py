"""Console sessions: a random token in Redis behind a signed cookie, with a CSRF token per session."""
from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer
from redis.asyncio import Redis

from core import keys

COOKIE = "xinyi_console"
SESSION_TTL_S = 8 * 3600


@dataclass(frozen=True)
class ConsoleSession:
    token: str
    username: str
    csrf: str


class ConsoleAuth:
    def __init__(self, redis: Redis, secret: str):
        self.redis = redis
        self.signer = URLSafeSerializer(secret, salt="xinyi-console")

    async def start(self, username: str) -> tuple[str, ConsoleSession]:
        token, csrf = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        await self.redis.set(keys.console_session(token), json.dumps({"u": username, "c": csrf}), ex=SESSION_TTL_S)
        return self.signer.dumps(token), ConsoleSession(token, username, csrf)

    async def current(self, cookie: str | None) -> ConsoleSession | None:
        if not cookie:
            return None
        try:
            token = self.signer.loads(cookie)
        except BadSignature:
            return None
        raw = await self.redis.get(keys.console_session(token))
        if not raw:
            return None
        await self.redis.expire(keys.console_session(token), SESSION_TTL_S)
        d = json.loads(raw)
        return ConsoleSession(token, d["u"], d["c"])

    async def end(self, session: ConsoleSession) -> None:
        await self.redis.delete(keys.console_session(session.token))

    @staticmethod
    def csrf_ok(session: ConsoleSession, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(session.csrf, given)
