"""Pseudonymous user ids: a keyed hash of channel + platform id, from day one."""
from __future__ import annotations

import hashlib
import hmac


def pseudonym(secret: str, channel: str, platform_id: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), f"{channel}\x00{platform_id}".encode("utf-8"), hashlib.sha256)
    return f"{channel[:2]}-{digest.hexdigest()[:24]}"
