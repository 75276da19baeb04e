"""Encryption at rest for message text, transcripts and delivery addresses."""
from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken


class Sealer:
    """Seals text with a Fernet key (AES-128-CBC + HMAC-SHA256)."""

    def __init__(self, key: str | bytes):
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError) as exc:
            raise ValueError(
                "XINYI_DATA_KEY must be a Fernet key (32 url-safe base64 bytes); "
                "generate one with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
            ) from exc

    def seal(self, text: str) -> str:
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def open(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise ValueError("sealed text could not be opened with this key") from exc

    @staticmethod
    def new_key() -> str:
        return Fernet.generate_key().decode("ascii")
