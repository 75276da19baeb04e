"""The web chat: a page an employee opens in a browser, and its small JSON API.

The browser holds a random id in an HttpOnly cookie; the server only ever sees its
pseudonym. Staff replies are read back from the transcript by polling.
"""
from __future__ import annotations

import json
import logging
import secrets
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field, ValidationError
from redis.exceptions import RedisError

from bot.channels.common import degraded
from bot.messages import Inbound
from core.pseudonym import pseudonym

log = logging.getLogger("xinyi.web")
COOKIE = "xinyi_web"
PAGE = Path(__file__).with_name("static") / "chat.html"


class SendBody(BaseModel):
    text: str = Field("", max_length=20_000)
    value: str | None = Field(None, max_length=200)


def web_chat_routes(runtime) -> APIRouter:
    api = APIRouter()
    secret = runtime.settings.id_secret.get_secret_value()

    def user_of(request: Request) -> tuple[str, str | None]:
        raw = request.cookies.get(COOKIE)
        new = None
        if not raw or len(raw) != 32 or not raw.isalnum():
            raw = new = secrets.token_hex(16)
        return pseudonym(secret, "web", raw), new

    def with_cookie(resp, new: str | None):
        if new:
            resp.set_cookie(COOKIE, new, httponly=True, samesite="lax", max_age=365 * 24 * 3600)
        return resp

    @api.get("/chat", response_class=HTMLResponse)
    async def page(request: Request):
        _, new = user_of(request)
        return with_cookie(HTMLResponse(PAGE.read_text(encoding="utf-8")), new)

    @api.post("/chat/api/send")
    async def send(request: Request):
        try:
            body = SendBody.model_validate(json.loads(await request.body() or b"{}"))
        except (ValueError, ValidationError):
            return JSONResponse({"error": "请求格式不正确：需要 JSON {\"text\": \"…\"}"}, status_code=400)
        if not body.text.strip() and body.value is None:
            return JSONResponse({"error": "消息是空的"}, status_code=400)
        user, new = user_of(request)
        msg = Inbound(channel="web", user=user, text=body.text, kind="option" if body.value else "text",
                      value=body.value)
        try:
            replies = await runtime.router.handle(msg)
        except RedisError as exc:
            log.error("redis unavailable while handling web message user=%s error=%s", user, type(exc).__name__)
            outs = degraded(runtime, msg)  # a crisis still gets the safety reply; the message is spooled
            status = 200 if outs[0].kind == "safety" else 503
            return with_cookie(JSONResponse({"replies": [o.to_dict() for o in outs], "degraded": True},
                                            status_code=status), new)
        return with_cookie(JSONResponse({"replies": [r.to_dict() for r in replies]}), new)

    @api.get("/chat/api/messages")
    async def messages(request: Request, after: str = "-"):
        user, new = user_of(request)
        if after not in ("-", "0") and not all(part.isdigit() for part in after.split("-", 1)):
            return JSONResponse({"error": "after must be a message id"}, status_code=400)
        try:
            entries = await runtime.transcript.read(user, after=after)
        except RedisError:
            return JSONResponse({"error": "暂时无法读取消息，请稍后再试"}, status_code=503)
        return with_cookie(JSONResponse({"messages": [
            {"id": e.id, "role": e.role, "text": e.text, "at": e.at,
             "options": json.loads(e.options) if e.options else []} for e in entries]}), new)

    return api
