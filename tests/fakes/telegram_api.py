"""A fake Telegram Bot API (api.telegram.org/bot<token>/<method>) on loopback.

Answers the methods Xinyi's python-telegram-bot calls with Bot API shapes; records what was
sent; can answer 429 with `retry_after` (flood), 403 (bot blocked) and serve getUpdates.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.fakes.server import ThreadServer, wait_until

BOT_ID = 424242


class FakeTelegramAPI(ThreadServer):
    def __init__(self, token: str = "424242:TEST-token"):
        self.token = token
        self.lock = threading.Lock()
        self.calls: list[tuple[str, dict, float]] = []   # (method, params, monotonic time)
        self.sent: list[dict] = []                       # sendMessage params (reply_markup parsed)
        self.answered: list[dict] = []                   # answerCallbackQuery
        self.edited: list[dict] = []                     # editMessageText / editMessageReplyMarkup
        self.webhook: dict = {}
        self.updates: list[dict] = []
        self.flood_next = 0                              # the next N sendMessage calls get 429
        self.retry_after = 1
        self.blocked: set[int] = set()                   # chats that blocked the bot (403)
        self._ids = itertools.count(1)
        super().__init__(self._app())

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    def messages_to(self, chat_id: int) -> list[dict]:
        with self.lock:
            return [m for m in self.sent if int(m["chat_id"]) == chat_id]

    def texts_to(self, chat_id: int) -> list[str]:
        return [m["text"] for m in self.messages_to(chat_id)]

    def wait_messages(self, chat_id: int, n: int, timeout: float = 5.0) -> list[dict]:
        wait_until(lambda: len(self.messages_to(chat_id)) >= n, timeout)
        return self.messages_to(chat_id)

    def push_update(self, update: dict) -> None:
        with self.lock:
            self.updates.append(update)

    def _app(self) -> FastAPI:
        app = FastAPI()

        def ok(result):
            return {"ok": True, "result": result}

        def message(chat_id, text, markup=None):
            chat_id = int(chat_id)
            m = {"message_id": next(self._ids), "date": int(time.time()), "text": text,
                 "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup", "title": "staff"},
                 "from": {"id": BOT_ID, "is_bot": True, "first_name": "Xinyi"}}
            if markup:
                m["reply_markup"] = markup
            return m

        @app.api_route("/bot{token}/{method}", methods=["GET", "POST"])
        async def call(token: str, method: str, request: Request):
            if token != self.token:
                return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401)
            ctype = request.headers.get("content-type", "")
            if "json" in ctype:
                params = json.loads(await request.body() or b"{}")
            else:
                params = dict(await request.form())
            for k in ("reply_markup", "allowed_updates"):
                if isinstance(params.get(k), str):
                    params[k] = json.loads(params[k])
            with self.lock:
                self.calls.append((method, params, time.monotonic()))
            m = method.lower()
            if m == "getme":
                return ok({"id": BOT_ID, "is_bot": True, "first_name": "Xinyi", "username": "xinyi_test_bot",
                           "can_join_groups": True, "can_read_all_group_messages": False,
                           "supports_inline_queries": False})
            if m == "sendmessage":
                chat_id = int(params["chat_id"])
                with self.lock:
                    if self.flood_next > 0:
                        self.flood_next -= 1
                        return JSONResponse({"ok": False, "error_code": 429,
                                             "description": f"Too Many Requests: retry after {self.retry_after}",
                                             "parameters": {"retry_after": self.retry_after}}, status_code=429)
                    if chat_id in self.blocked:
                        return JSONResponse({"ok": False, "error_code": 403,
                                             "description": "Forbidden: bot was blocked by the user"}, status_code=403)
                    self.sent.append(params)
                return ok(message(chat_id, params.get("text", ""), params.get("reply_markup")))
            if m == "answercallbackquery":
                with self.lock:
                    self.answered.append(params)
                return ok(True)
            if m in ("editmessagetext", "editmessagereplymarkup"):
                with self.lock:
                    self.edited.append(params)
                return ok(message(params.get("chat_id", -1), params.get("text", ""), params.get("reply_markup")))
            if m == "setwebhook":
                self.webhook = params
                return ok(True)
            if m == "deletewebhook":
                self.webhook = {}
                return ok(True)
            if m == "getupdates":
                offset = int(params.get("offset") or 0)
                deadline = time.monotonic() + min(float(params.get("timeout") or 0), 2.0)
                while True:
                    with self.lock:
                        ready = [u for u in self.updates if u["update_id"] >= offset]
                    if ready or time.monotonic() >= deadline:
                        return ok(ready)
                    await asyncio.sleep(0.02)
            return JSONResponse({"ok": False, "error_code": 404, "description": "Not Found: method not found"},
                                status_code=404)

        return app
