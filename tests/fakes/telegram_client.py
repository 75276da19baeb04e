"""Builds updates as Telegram sends them and posts them to Xinyi's webhook with the secret token."""
from __future__ import annotations

import itertools
import time

import httpx

_update_ids = itertools.count(int(time.time()) % 1_000_000 * 100)
_message_ids = itertools.count(1)


def person(user_id: int, lang: str | None = "zh-hans") -> dict:
    p = {"id": user_id, "is_bot": False, "first_name": "职工"}
    if lang:
        p["language_code"] = lang
    return p


def private_chat(chat_id: int) -> dict:
    return {"id": chat_id, "type": "private", "first_name": "职工"}


def message_update(chat_id: int, text: str | None = None, lang: str | None = "zh-hans", **extra) -> dict:
    msg = {"message_id": next(_message_ids), "date": int(time.time()), "chat": private_chat(chat_id),
           "from": person(chat_id, lang)}
    if text is not None:
        msg["text"] = text
        if text.startswith("/"):
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    msg.update(extra)
    return {"update_id": next(_update_ids), "message": msg}


def callback_update(chat_id: int, data: str, shown: dict | None = None, lang: str | None = "zh-hans",
                    from_id: int | None = None, chat: dict | None = None) -> dict:
    """A press on an inline button of `shown` (a message the bot sent, as the fake recorded it)."""
    message = {"message_id": next(_message_ids), "date": int(time.time()), "chat": chat or private_chat(chat_id),
               "text": (shown or {}).get("text", "…")}
    if shown and shown.get("reply_markup"):
        message["reply_markup"] = shown["reply_markup"]
    return {"update_id": next(_update_ids),
            "callback_query": {"id": str(next(_update_ids)), "from": person(from_id or chat_id, lang),
                               "chat_instance": "ci", "data": data, "message": message}}


class TelegramSender:
    def __init__(self, app_url: str, secret: str, fake):
        self.url = app_url.rstrip("/") + "/telegram/webhook"
        self.secret = secret
        self.fake = fake
        self.http = httpx.Client(timeout=30)

    def post(self, update: dict, secret: str | None = None) -> httpx.Response:
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.secret if secret is None else secret}
        return self.http.post(self.url, json=update, headers=headers)

    def deliver(self, update: dict, chat_id: int) -> list[dict]:
        """Post an update; the messages the bot sent to the chat in answer."""
        before = len(self.fake.messages_to(chat_id))
        r = self.post(update)
        assert r.status_code == 200, (r.status_code, r.text)
        return self.fake.messages_to(chat_id)[before:]

    def say(self, chat_id: int, text: str, lang: str | None = "zh-hans") -> list[dict]:
        return self.deliver(message_update(chat_id, text, lang), chat_id)

    def press(self, chat_id: int, shown: dict, value: str, lang: str | None = "zh-hans") -> list[dict]:
        return self.deliver(callback_update(chat_id, value, shown, lang), chat_id)


def button_values(msg: dict) -> dict[str, str]:
    """label → callback_data of an inline keyboard."""
    rows = (msg.get("reply_markup") or {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row}


def button(msg: dict, label_part: str) -> str:
    for label, value in button_values(msg).items():
        if label_part in label:
            return value
    raise AssertionError(f"no button containing {label_part!r} in {button_values(msg)}")
