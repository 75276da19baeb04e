"""Staff accounts of the console: argon2-hashed passwords in Redis, roles, organisation."""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from redis.asyncio import Redis

from core import keys

ROLES = ("staff", "supervisor", "admin")
_hasher = PasswordHasher()
# Verifying an unknown user against a real hash keeps timing the same as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Staff:
    username: str
    name: str
    role: str
    org: str


def account_fields(password: str, name: str, role: str, org: str) -> dict[str, str]:
    """What an account is stored as: never the password, only its argon2 hash."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    return {"hash": _hasher.hash(password), "name": name, "role": role, "org": org}


class StaffStore:
    def __init__(self, redis: Redis):
        self.redis = redis

    async def create(self, username: str, password: str, name: str, role: str = "staff", org: str = "") -> Staff:
        await self.redis.hset(keys.staff(username), mapping=account_fields(password, name, role, org))
        await self.redis.sadd(keys.STAFF_INDEX, username)
        return Staff(username, name, role, org)

    async def get(self, username: str) -> Staff | None:
        h = await self.redis.hgetall(keys.staff(username))
        if not h:
            return None
        h = {k.decode(): v.decode() for k, v in h.items()}
        return Staff(username, h.get("name", username), h.get("role", "staff"), h.get("org", ""))

    async def verify(self, username: str, password: str) -> Staff | None:
        stored = await self.redis.hget(keys.staff(username), "hash")
        try:
            _hasher.verify(stored.decode() if stored else _DUMMY_HASH, password)
        except (VerifyMismatchError, InvalidHashError):
            return None
        return await self.get(username) if stored else None

    async def count(self) -> int:
        return await self.redis.scard(keys.STAFF_INDEX)

    async def ensure_first_admin(self, org: str) -> str | None:
        """On first start, create `admin` with a random password; return it (shown once) or None."""
        if await self.count() > 0:
            return None
        password = secrets.token_urlsafe(12)
        await self.create("admin", password, "值班管理员", role="admin", org=org)
        return password
