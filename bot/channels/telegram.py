"""The Telegram bot, through python-telegram-bot 22.

- Webhook: POST /telegram/webhook in the same ASGI app (PTB's Application built with
  `updater(None)`; each update goes to `Application.process_update`). The
  `X-Telegram-Bot-Api-Secret-Token` header is compared in constant time; without a
  configured secret the webhook refuses everything. Long polling (`xinyi telegram poll`)
  feeds the same path, for development.
- Updates are processed once across workers (update_id in Redis); a failed update answers
  500 so Telegram delivers it again.
- Options become inline keyboards (callback_data = option value); commands /start /help
  /menu /sos /screen /privacy /delete map onto router inputs; replies use the user's
  language (language_code → Inbound.lang, zh or en).
- Flood limits: PTB's AIORateLimiter (30 msg/s overall, 20 msg/min per group); a 429's
  `retry_after` is waited out and the call retried (up to telegram_max_retries).
- Push: staff replies from the outbox (bot/outbox.py) via `deliver`; the staff group
  notifier and its claim button live in telegram_staff.py.

Nothing from telegram.* leaves bot/channels/.
"""
from __future__ import annotations

import asyncio
import hmac
import json
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from redis.exceptions import RedisError
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import AIORateLimiter, Application, ContextTypes, TypeHandler

from bot.addresses import AddressBook
from bot.channels.common import chunks, restart_conversation, route, t
from bot.channels.once import Once
from bot.messages import Inbound, Outbound
from bot.outbox import Delivery
from core.pseudonym import pseudonym

log = logging.getLogger("xinyi.telegram")
WEBHOOK_PATH = "/telegram/webhook"
TEXT_LIMIT = 4096
CALLBACK_LIMIT = 64       # bytes of callback_data
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
UNSUPPORTED = ("photo", "voice", "audio", "video", "video_note", "document", "sticker", "animation", "contact",
               "poll", "dice", "venue")
# commands that start a flow when the flow for their intent exists (else the text goes to the router)
FLOW_COMMANDS = {"sos": ("hotline_info", "紧急求助"), "screen": ("screening", "心理测评"), "privacy": ("privacy", "隐私")}
TEXT_COMMANDS = {"menu": "菜单", "delete": "删除我的数据"}

for _noisy in ("httpx", "httpcore"):   # httpx logs request URLs at INFO — they contain the bot token
    logging.getLogger(_noisy).setLevel(logging.WARNING)


def language(code: str | None) -> str:
    return "en" if code and not code.lower().startswith("zh") else "zh"


class TelegramChannel:
    channel = "telegram"

    def __init__(self, runtime, application: Application | None = None):
        s = runtime.settings
        self.rt = runtime
        self.id_secret = s.id_secret.get_secret_value()
        self.webhook_secret = s.telegram_secret_token.get_secret_value() if s.telegram_secret_token else None
        self.staff_chat_id = s.telegram_staff_chat_id
        self.once = Once(runtime.redis, runtime.sealer, self.channel)
        self.addresses = runtime.addresses or AddressBook(runtime.redis, runtime.sealer)
        if application is None:
            builder = (Application.builder().token(s.telegram_token.get_secret_value())
                       .base_url(s.telegram_api_base).updater(None).connection_pool_size(64))
            if s.telegram_rate_limit:
                builder = builder.rate_limiter(AIORateLimiter(max_retries=s.telegram_max_retries))
            application = builder.build()
        self.app = application
        self.app.add_handler(TypeHandler(Update, self._on_update))
        self.app.add_error_handler(self._on_error)
        self._failed: set[int] = set()
        self.ready = asyncio.Event()
        self._starter: asyncio.Task | None = None
        from bot.channels.telegram_staff import StaffDesk
        self.staff = StaffDesk(runtime, self)

    @property
    def bot(self):
        return self.app.bot

    def staff_notifier(self):
        """The staff group as a paging channel (the app hands it to escalation), if one is set."""
        from bot.channels.telegram_staff import TelegramStaffNotifier
        return TelegramStaffNotifier(self) if self.staff_chat_id is not None else None

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        """Initialise PTB (getMe) in the background, retrying: Telegram being away must not stop the app."""
        if self.webhook_secret is None:
            log.warning("telegram: XINYI_TELEGRAM_SECRET_TOKEN unset: the webhook refuses every request "
                        "(long polling still works)")
        self._starter = asyncio.create_task(self._initialise())

    async def _initialise(self) -> None:
        delay = 1.0
        while True:
            try:
                await self.app.initialize()
                self.ready.set()
                log.info("telegram bot ready")
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error("telegram: cannot reach the Bot API (%s); retrying in %.0f s", type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60)

    async def wait_ready(self, timeout: float = 10) -> None:
        await asyncio.wait_for(self.ready.wait(), timeout)

    async def stop(self) -> None:
        if self._starter is not None:
            self._starter.cancel()
            await asyncio.gather(self._starter, return_exceptions=True)
        if self.ready.is_set():
            await self.app.shutdown()

    # -- HTTP -----------------------------------------------------------------------------
    def routes(self) -> APIRouter:
        api = APIRouter()

        @api.post(WEBHOOK_PATH)
        async def webhook(request: Request):
            given = request.headers.get("x-telegram-bot-api-secret-token", "")
            if self.webhook_secret is None or not hmac.compare_digest(given.encode(), self.webhook_secret.encode()):
                log.warning("telegram: webhook call with a wrong or missing secret token")
                return JSONResponse({"error": "forbidden"}, status_code=403)
            try:
                data = json.loads(await request.body())
                if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                    raise ValueError("not an update")
            except ValueError:
                return JSONResponse({"error": "malformed update"}, status_code=400)
            if not self.ready.is_set():
                return JSONResponse({"error": "starting"}, status_code=503)   # Telegram delivers it again
            try:
                update = Update.de_json(data, self.bot)
            except Exception:
                log.warning("telegram: update %s could not be read", data.get("update_id"))
                return JSONResponse({"error": "malformed update"}, status_code=400)
            ok = await self.process(update)
            return Response(status_code=200 if ok else 500)

        return api

    async def process(self, update: Update) -> bool:
        """One update, once across workers and retries; False when it must be delivered again."""
        key = f"u{update.update_id}"
        try:
            if not await self.once.first(key):
                return True
        except RedisError:
            pass    # no dedup without Redis; the safety answer must still go out
        await self.app.process_update(update)
        if update.update_id in self._failed:
            self._failed.discard(update.update_id)
            try:
                await self.once.forget(key)
            except RedisError:
                pass
            return False
        return True

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if isinstance(update, Update):
            self._failed.add(update.update_id)
        err = context.error
        log.error("telegram: update %s failed: %s", getattr(update, "update_id", "?"), type(err).__name__,
                  exc_info=(type(err), err, err.__traceback__) if err and not isinstance(err, TelegramError) else None)

    # -- update → Inbound → router → replies --------------------------------------------------
    async def _on_update(self, update: Update, context) -> None:
        if update.callback_query is not None:
            await self._on_callback(update)
        elif update.my_chat_member is not None:
            await self._on_member(update)
        elif update.effective_message is not None and update.effective_chat is not None:
            if update.effective_chat.type != "private":
                return     # the bot converses in private chats only; the staff group gets notifications
            await self._on_message(update)

    def _user(self, chat_id: int) -> str:
        return pseudonym(self.id_secret, self.channel, str(chat_id))

    async def _on_message(self, update: Update) -> None:
        m = update.effective_message
        chat_id = m.chat.id
        lang = language(m.from_user.language_code if m.from_user else None)
        user = self._user(chat_id)
        base = dict(channel=self.channel, user=user, lang=lang, message_id=str(m.message_id))
        before: list[Outbound] = []
        if m.text and m.text.startswith("/"):
            msg, before = await self._command(m.text, user, lang, base)
            if msg is None:
                await self.send(chat_id, before, lang, user)
                return
        elif m.text:
            msg = Inbound(text=m.text, **base)
        elif m.location is not None:
            msg = Inbound(text=f"[位置] ({m.location.latitude}, {m.location.longitude})", kind="unsupported",
                          value="location", **base)
        else:
            kind = next((k for k in UNSUPPORTED if getattr(m, k, None)), "unknown")
            msg = Inbound(kind="unsupported", value=kind, **base)
        log.info("telegram in user=%s kind=%s", user, msg.kind if not (m.text or "").startswith("/") else "command")
        await self._remember(user, chat_id, lang)
        replies = await route(self.rt, msg)
        await self.send(chat_id, before + replies, lang, user)

    async def _command(self, text: str, user: str, lang: str, base: dict) -> tuple[Inbound | None, list[Outbound]]:
        """A command as a router input (None: answered here), and what to say before the router's answer."""
        head, _, arg = text.partition(" ")
        name = head[1:].split("@", 1)[0].lower()
        if name == "start":
            org = arg.strip() if self.rt.orgs.known(arg.strip()) else None    # t.me/<bot>?start=<org id>
            try:
                await restart_conversation(self.rt, user, org)
            except RedisError:
                pass
            return Inbound(text=t(lang, "start"), org=org, **base), []
        if name in FLOW_COMMANDS:
            intent, label = FLOW_COMMANDS[name]
            flow = self.rt.flows.engine.flow_for_intent(intent)
            if flow:
                return Inbound(text=label, kind="option", value=flow, **base), []
            if name == "privacy":
                return None, [Outbound(t(lang, "privacy"))]
            return Inbound(text=label, **base), []
        if name in TEXT_COMMANDS:
            return Inbound(text=TEXT_COMMANDS[name], **base), []
        return Inbound(text="菜单", **base), [Outbound(t(lang, "help"))]     # /help and unknown commands

    async def _on_callback(self, update: Update) -> None:
        q = update.callback_query
        chat = q.message.chat if q.message is not None else None
        if chat is not None and self.staff_chat_id is not None and chat.id == self.staff_chat_id:
            await self.staff.on_callback(q)
            return
        if chat is None or chat.type != "private" or not q.data:
            await q.answer()
            return
        await q.answer()   # stops the button's spinner
        lang = language(q.from_user.language_code if q.from_user else None)
        user = self._user(chat.id)
        label = q.data
        markup = getattr(q.message, "reply_markup", None)
        for row in (markup.inline_keyboard if markup else ()):
            for button in row:
                if button.callback_data == q.data:
                    label = button.text
        msg = Inbound(channel=self.channel, user=user, text=label, kind="option", value=q.data, lang=lang,
                      message_id=f"cb{q.id}")
        log.info("telegram in user=%s kind=option", user)
        await self._remember(user, chat.id, lang)
        await self.send(chat.id, await route(self.rt, msg), lang, user)

    async def _on_member(self, update: Update) -> None:
        change = update.my_chat_member
        if change.chat.type != "private":
            return
        user = self._user(change.chat.id)
        status = change.new_chat_member.status
        if status in ("kicked", "left"):
            log.info("telegram: user blocked the bot user=%s", user)
            await self.addresses.mark(user, "blocked")
            case = await self.rt.cases.open_case_of(user)
            if case is not None:
                await self.rt.cases.record(case.id, self.channel, "user blocked the Telegram bot; "
                                           "replies can no longer be delivered", self.rt.clock.now())
        elif status == "member":
            await self.addresses.mark(user, "ok")

    async def _remember(self, user: str, chat_id: int, lang: str) -> None:
        try:
            await self.addresses.remember(user, self.channel, {"chat_id": chat_id}, self.rt.clock.now(), lang)
        except RedisError:
            pass

    # -- sending --------------------------------------------------------------------------------
    @staticmethod
    def keyboard(out: Outbound) -> InlineKeyboardMarkup | None:
        if not out.options or any(len(o.value.encode()) > CALLBACK_LIMIT for o in out.options):
            return None
        return InlineKeyboardMarkup([[InlineKeyboardButton(o.label, callback_data=o.value)] for o in out.options])

    async def send(self, chat_id: int, outs: list[Outbound], lang: str | None, user: str) -> None:
        for out in outs:
            markup = self.keyboard(out)
            text = out.text if markup is not None else out.as_numbered_text()
            if out.kind == "staff":
                text = t(lang, "staff_prefix") + text
            pieces = chunks(text, TEXT_LIMIT)
            for i, piece in enumerate(pieces):
                try:
                    await self.bot.send_message(chat_id, piece, reply_markup=markup if i == len(pieces) - 1 else None)
                except Forbidden:
                    log.warning("telegram: user has blocked the bot user=%s", user)
                    await self.addresses.mark(user, "blocked")
                    return

    async def deliver(self, user: str, text: str, case_id: str) -> Delivery:
        """A staff reply from the outbox (bot/outbox.py)."""
        address = await self.addresses.get(user)
        if address is None or address.channel != self.channel or "chat_id" not in address.address:
            return Delivery.failed("no Telegram chat on record for this user")
        if address.state != "ok":
            return Delivery.failed("user has blocked the Telegram bot")
        if not self.ready.is_set():
            return Delivery.retry("Telegram Bot API not reachable yet")
        chat_id = address.address["chat_id"]
        try:
            for piece in chunks(t(address.lang, "staff_prefix") + text, TEXT_LIMIT):
                await self.bot.send_message(chat_id, piece)
        except Forbidden:
            await self.addresses.mark(user, "blocked")
            return Delivery.failed("user has blocked the Telegram bot")
        except BadRequest as exc:
            return Delivery.failed(f"Telegram refused the message ({type(exc).__name__})")
        except RetryAfter as exc:
            return Delivery.retry(f"flood limit, retry after {exc.retry_after}")
        except (TimedOut, NetworkError) as exc:
            return Delivery.retry(type(exc).__name__)
        log.info("telegram: staff reply delivered case=%s", case_id)
        return Delivery.ok()

    # -- development: long polling -----------------------------------------------------------
    async def poll(self, stop: asyncio.Event, timeout: int = 25) -> None:
        """Long polling (getUpdates) into the same path as the webhook; removes a set webhook first."""
        await self.wait_ready(timeout=60)
        await self.bot.delete_webhook(drop_pending_updates=False)
        offset = None
        while not stop.is_set():
            try:
                updates = await self.bot.get_updates(offset=offset, timeout=timeout, allowed_updates=ALLOWED_UPDATES)
            except (TimedOut, NetworkError) as exc:
                log.warning("telegram: getUpdates failed (%s); retrying", type(exc).__name__)
                await asyncio.sleep(1)
                continue
            for update in updates:
                if await self.process(update):
                    offset = update.update_id + 1
                else:
                    break    # fetch it again

    async def set_webhook(self, url: str) -> None:
        await self.wait_ready(timeout=30)
        await self.bot.set_webhook(url=url, secret_token=self.webhook_secret, allowed_updates=ALLOWED_UPDATES,
                                   max_connections=40)
