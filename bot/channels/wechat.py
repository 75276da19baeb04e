"""The union's WeChat official account (公众号): the server endpoint WeChat calls, and the push side.

Inbound (POST /wechat, as WeChat sends it):
- the `signature` (token, timestamp, nonce) is checked in constant time, and the timestamp
  must be fresh (replays refused); in safe mode (`encrypt_type=aes`) the `msg_signature`
  over the ciphertext is checked and the message decrypted (wechatpy's WeChatCrypto);
  once safe mode is configured, plaintext posts are refused;
- the XML is read hardened (wechat_xml): no DOCTYPE/entities, a size cap, 400 on garbage;
- every message and event type becomes one Inbound for the router, or is answered here
  (unsubscribe ends the session; VIEW and status events need no answer);
- WeChat's retries of one delivery (MsgId; events: user + CreateTime) are processed once
  across workers and all get the same answer (bot/channels/once.py);
- the 5-second rule: the answer goes back passively when ready within the reply budget,
  otherwise `success` now and the answer follows as customer-service messages.

Outbound (push): staff replies from the outbox and answers too late or too long for the
passive reply go out as customer-service messages, within WeChat's window (48 h after the
user's last message, at most 5 per user message), tracked in Redis for all workers.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from redis.exceptions import RedisError
from wechatpy import create_reply, parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from bot.addresses import AddressBook
from bot.channels.common import chunks, restart_conversation, route, t, utf8_len
from bot.channels.once import Once
from bot.channels.wechat_api import WeChatAPI, WeChatAPIError
from bot.channels.wechat_menu import ClickAction, MenuError, load_menu
from bot.channels.wechat_window import REASONS, ServiceWindow
from bot.channels.wechat_xml import MAX_XML_BYTES, BadXML, parse_xml, text_field
from bot.messages import Inbound, Outbound
from bot.outbox import Delivery
from core.pseudonym import pseudonym

log = logging.getLogger("xinyi.wechat")
TEXT_LIMIT = 2000          # bytes per text message (WeChat's limit is 2048)
MEDIA_TYPES = {"image", "video", "shortvideo", "link", "file", "miniprogrampage"}
SILENT_EVENTS = {"view", "location", "templatesendjobfinish", "masssendjobfinish", "view_miniprogram",
                 "subscribe_msg_popup_event", "subscribe_msg_change_event", "subscribe_msg_sent_event"}


def _sha1_signature(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


class WeChatChannel:
    channel = "wechat"

    def __init__(self, runtime, api: WeChatAPI | None = None):
        s = runtime.settings
        self.rt = runtime
        self.token = s.wechat_token.get_secret_value()
        self.appid = s.wechat_appid or ""
        self.crypto = WeChatCrypto(self.token, s.wechat_aes_key.get_secret_value(), self.appid) \
            if s.wechat_aes_key else None
        self.id_secret = s.id_secret.get_secret_value()
        self.budget_s = s.wechat_reply_budget_s
        self.max_skew_s = s.wechat_max_clock_skew_s
        self.once = Once(runtime.redis, runtime.sealer, self.channel)
        self.window = ServiceWindow(runtime.redis)
        self.addresses = runtime.addresses or AddressBook(runtime.redis, runtime.sealer)
        if api is None and self.appid and s.wechat_secret and runtime.redis_url:
            api = WeChatAPI(self.appid, s.wechat_secret.get_secret_value(), runtime.redis_url, s.wechat_api_base)
        self.api = api
        try:
            self.clicks: dict[str, ClickAction] = load_menu(s.wechat_menu_file, set(runtime.flows.engine.flows)).clicks
        except (OSError, MenuError) as exc:
            log.error("wechat menu file unusable (%s); menu clicks answer with the main menu", exc)
            self.clicks = {}
        self._tasks: set[asyncio.Task] = set()

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        if self.api is None:
            log.warning("wechat: XINYI_WECHAT_APPID/XINYI_WECHAT_SECRET unset: passive replies only, "
                        "no customer-service messages (late answers and staff replies cannot be pushed)")

    async def stop(self) -> None:
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
        if self.api is not None:
            self.api.close()

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- HTTP -----------------------------------------------------------------------------
    def routes(self) -> APIRouter:
        api = APIRouter()

        @api.get("/wechat")
        async def verify(signature: str = "", timestamp: str = "", nonce: str = "", echostr: str = ""):
            """WeChat's server-URL check (服务器配置): echo `echostr` when the signature is ours."""
            refusal = self._refuse(signature, timestamp, nonce)
            if refusal:
                return refusal
            return PlainTextResponse(echostr)

        @api.post("/wechat")
        async def receive(request: Request):
            started = time.monotonic()
            q = request.query_params
            timestamp, nonce = q.get("timestamp", ""), q.get("nonce", "")
            refusal = self._refuse(q.get("signature", ""), timestamp, nonce)
            if refusal:
                return refusal
            body = await request.body()
            if len(body) > MAX_XML_BYTES:
                return PlainTextResponse("body too large", status_code=413)
            try:
                fields = parse_xml(body)
                safe = q.get("encrypt_type", "raw").lower() == "aes"
                if safe:
                    if self.crypto is None:
                        return PlainTextResponse("safe mode is not configured", status_code=400)
                    encrypted = text_field(fields, "Encrypt")
                    expected = _sha1_signature(self.token, timestamp, nonce, encrypted)
                    if not encrypted or not hmac.compare_digest(expected, q.get("msg_signature", "")):
                        log.warning("wechat: bad msg_signature")
                        return PlainTextResponse("bad signature", status_code=403)
                    try:
                        inner = self.crypto.decrypt_message({"Encrypt": encrypted}, expected, timestamp, nonce)
                    except Exception:   # bad base64, padding, length or appid: never a crash
                        log.warning("wechat: message could not be decrypted")
                        return PlainTextResponse("cannot decrypt", status_code=400)
                    fields = parse_xml(inner)
                elif self.crypto is not None:
                    log.warning("wechat: plaintext post refused (safe mode is configured)")
                    return PlainTextResponse("safe mode required", status_code=403)
                xml_text = inner if safe else body.decode("utf-8")
                if not text_field(fields, "MsgType") or not text_field(fields, "FromUserName"):
                    raise BadXML("MsgType and FromUserName are required")
                message = parse_message(xml_text)
            except (BadXML, UnicodeDecodeError, KeyError, AttributeError) as exc:
                log.warning("wechat: malformed request (%s)", type(exc).__name__ if not isinstance(exc, BadXML) else exc)
                return PlainTextResponse("malformed XML", status_code=400)

            reply = await self.answer(message, fields, started)
            if not reply:
                return PlainTextResponse("success")
            xml = create_reply(reply, message=message, render=True)
            if safe:
                xml = self.crypto.encrypt_message(xml, nonce, str(int(time.time())))
            return Response(xml, media_type="application/xml")

        return api

    def _refuse(self, signature: str, timestamp: str, nonce: str) -> Response | None:
        expected = _sha1_signature(self.token, timestamp, nonce)
        if not signature or not hmac.compare_digest(expected, signature):
            log.warning("wechat: bad signature")
            return PlainTextResponse("bad signature", status_code=403)
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > self.max_skew_s:
            log.warning("wechat: stale or missing timestamp")
            return PlainTextResponse("stale timestamp", status_code=403)
        return None

    # -- one delivery, once ---------------------------------------------------------------
    async def answer(self, message, fields: dict, started: float) -> str | None:
        """The passive answer (text) to one delivery, or None for `success`."""
        msg_type = text_field(fields, "MsgType").lower()
        event = text_field(fields, "Event").lower() if msg_type == "event" else ""
        if event in SILENT_EVENTS:
            return None
        openid = message.source
        user = pseudonym(self.id_secret, self.channel, openid)
        create_time = text_field(fields, "CreateTime")
        msg_id = text_field(fields, "MsgId")
        # Events have no MsgId: user + CreateTime (+ event and key, so two different clicks in one second stay two)
        event_key = hashlib.sha1(text_field(fields, "EventKey").encode()).hexdigest()[:12] if event else ""
        dedup_key = f"m{msg_id}" if msg_id and msg_type != "event" else f"e:{user}:{create_time}:{event}:{event_key}"
        deadline = started + self.budget_s
        try:
            state = await self.once.begin(dedup_key)
            if state.kind == "pending":
                state = await self.once.wait(dedup_key, deadline)
                if state.kind == "gone":                       # the owner died: take over
                    state = await self.once.begin(dedup_key)
                elif state.kind == "pending":
                    state = await self.once.give_up_waiting(dedup_key)
        except RedisError:
            log.error("wechat: redis unavailable; answering without dedup user=%s", user)
            outs = await self._process(message, fields, msg_type, event, user, openid)
            passive, rest = self._split(outs)
            if rest:
                self._spawn(self._push(user, openid, rest))
            return passive or None
        if state.kind == "owner":
            return await self._own(dedup_key, state.token, message, fields, msg_type, event, user, openid, deadline)
        if state.kind == "passive":
            log.info("wechat: repeated delivery answered with the stored reply user=%s", user)
            return state.reply or None
        return None   # answered by push, or still pending after the budget (it will be pushed)

    async def _own(self, key, token, message, fields, msg_type, event, user, openid, deadline) -> str | None:
        task = asyncio.create_task(self._process(message, fields, msg_type, event, user, openid))
        try:
            outs = await asyncio.wait_for(asyncio.shield(task), timeout=max(0.05, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            log.warning("wechat: answer not ready within %.1f s; replying `success` and pushing it user=%s",
                        self.budget_s, user)
            await self.once.give_up_waiting(key)
            self._spawn(self._push_when_done(key, token, task, user, openid))
            return None
        passive, rest = self._split(outs)
        try:
            outcome = await self.once.finish(key, token, passive)
        except RedisError:
            outcome = "passive"   # the answer is ready: give it; a retry may be answered twice, never not at all
        if outcome == "passive":
            if rest:
                self._spawn(self._push(user, openid, rest))
            return passive or None
        if outcome == "push":
            self._spawn(self._push(user, openid, [p for p in [passive, *rest] if p]))
        return None

    async def _push_when_done(self, key, token, task, user, openid) -> None:
        try:
            outs = await task
        except Exception:
            log.exception("wechat: late answer failed user=%s", user)
            return
        passive, rest = self._split(outs)
        if await self.once.finish(key, token, "") == "push":
            await self._push(user, openid, [p for p in [passive, *rest] if p])

    # -- platform message → Inbound → router -------------------------------------------------
    async def _process(self, message, fields, msg_type, event, user, openid) -> list[Outbound]:
        now = self.rt.clock.now()
        if event == "unsubscribe":
            await self._unsubscribed(user, now)
            return []
        try:
            await self.addresses.remember(user, self.channel, {"openid": openid}, now, lang="zh")
            await self.window.opened(user, now)
        except RedisError:
            pass   # route() degrades below; the safety answer does not depend on this bookkeeping
        msg = await self._inbound(message, fields, msg_type, event, user)
        log.info("wechat in user=%s type=%s%s", user, msg_type, f"/{event}" if event else "")
        return await route(self.rt, msg)

    async def _inbound(self, message, fields, msg_type, event, user) -> Inbound:
        base = dict(channel=self.channel, user=user, lang="zh", message_id=text_field(fields, "MsgId") or None)
        if msg_type == "text":
            return Inbound(text=text_field(fields, "Content"), **base)
        if msg_type == "voice":
            heard = text_field(fields, "Recognition").strip()
            if heard:
                return Inbound(text=heard, **base)
            return Inbound(kind="unsupported", value="voice", **base)
        if msg_type == "location":
            label = text_field(fields, "Label")
            where = f"[位置] {label} ({text_field(fields, 'Location_X')}, {text_field(fields, 'Location_Y')})"
            return Inbound(text=where, kind="unsupported", value="location", **base)
        if msg_type == "event":
            scene = text_field(fields, "EventKey")
            if event == "subscribe":
                scene = scene[len("qrscene_"):] if scene.startswith("qrscene_") else ""
                org = scene if self.rt.orgs.known(scene) else None
                try:
                    await restart_conversation(self.rt, user, org)
                except RedisError:
                    pass
                return Inbound(kind="event", value="subscribe", org=org, **base)
            if event == "scan":
                org = scene if self.rt.orgs.known(scene) else None
                return Inbound(text="菜单", org=org, **base)
            if event == "click":
                action = self.clicks.get(scene)
                if action is None:
                    return Inbound(text="菜单", **base)
                if action.option:
                    return Inbound(text=action.label, kind="option", value=action.option, **base)
                return Inbound(text=action.text or "菜单", **base)
            return Inbound(kind="event", value=event or "unknown", **base)
        return Inbound(kind="unsupported", value=msg_type if msg_type in MEDIA_TYPES else "unknown", **base)

    async def _unsubscribed(self, user: str, now: float) -> None:
        """Unsubscribe ends the session; staff are told that replies can no longer reach the user."""
        log.info("wechat unsubscribe user=%s", user)
        await self.rt.sessions.delete(user)
        await self.addresses.mark(user, "unsubscribed")
        case = await self.rt.cases.open_case_of(user)
        if case is not None:
            await self.rt.cases.record(case.id, self.channel, "user unsubscribed from the WeChat account; "
                                       "replies can no longer be delivered", now)

    # -- answers: passive part and pushed rest ---------------------------------------------
    @staticmethod
    def _split(outs: list[Outbound]) -> tuple[str, list[str]]:
        pieces: list[str] = []
        for o in outs:
            pieces.extend(chunks(o.as_numbered_text(), TEXT_LIMIT, utf8_len))
        packed: list[str] = []
        for p in pieces:
            if packed and utf8_len(packed[-1] + "\n\n" + p) <= TEXT_LIMIT:
                packed[-1] += "\n\n" + p
            else:
                packed.append(p)
        return (packed[0] if packed else ""), packed[1:]

    async def _push(self, user: str, openid: str, texts: list[str]) -> None:
        for text in texts:
            problem = await self._send(user, openid, text)
            if problem:
                log.error("wechat: answer could not be pushed user=%s reason=%s", user, problem)
                return

    async def _send(self, user: str, openid: str, text: str) -> str | None:
        """Send one customer-service text within the window; None, or why it was not sent."""
        if self.api is None:
            return "WeChat API not configured (XINYI_WECHAT_APPID / XINYI_WECHAT_SECRET)"
        window = await self.window.reserve(user, self.rt.clock.now())
        if window != "ok":
            return REASONS[window]
        try:
            await self.api.send_text(openid, text)
        except WeChatAPIError as exc:
            await self.window.release(user)
            return exc.undeliverable and f"{exc.undeliverable} (errcode {exc.errcode})" or \
                f"retry: WeChat API error {exc.errcode}"
        return None

    async def deliver(self, user: str, text: str, case_id: str) -> Delivery:
        """A staff reply from the outbox (bot/outbox.py)."""
        address = await self.addresses.get(user)
        if address is None or address.channel != self.channel or "openid" not in address.address:
            return Delivery.failed("no WeChat address on record for this user")
        if address.state != "ok":
            return Delivery.failed(f"user has {address.state} the WeChat account")
        for piece in chunks(t(address.lang, "staff_prefix") + text, TEXT_LIMIT, utf8_len):
            problem = await self._send(user, address.address["openid"], piece)
            if problem:
                if problem.startswith("retry: "):
                    return Delivery.retry(problem[len("retry: "):])
                return Delivery.failed(problem)
        log.info("wechat: staff reply delivered case=%s", case_id)
        return Delivery.ok()
