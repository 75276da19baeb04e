"""The Telegram bot at the protocol level: python-telegram-bot 22 inside the real app, talking
to a fake Bot API on loopback; updates posted to the webhook as Telegram posts them."""
import asyncio
import time

import pytest
import redis as sync_redis

from bot.runtime import build_runtime
from core import keys
from core.pseudonym import pseudonym
from tests.fakes.server import wait_until
from tests.fakes.settings import with_settings
from tests.fakes.staff import case_history, open_cases, staff_reply, undelivered
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.telegram_client import (TelegramSender, button, button_values, callback_update, message_update,
                                         private_chat)
from tests.live import LiveServer

SECRET = "webhook-secret-0123456789"
STAFF_CHAT = -1001234567
STAFF_TG_USER = 777001


@pytest.fixture
def tg_api():
    with FakeTelegramAPI() as api:
        yield api


def tg_settings(settings, api, **extra):
    values = dict(telegram_token=api.token, telegram_secret_token=SECRET, telegram_api_base=api.base_url,
                  telegram_staff_chat_id=STAFF_CHAT, telegram_staff={str(STAFF_TG_USER): "duty1"},
                  outbox_retry_s=0.3)
    values.update(extra)
    return with_settings(settings, **values)


def start_live(settings, redis_url, api):
    server = LiveServer(settings, redis_url, None).__enter__()
    server.tg = TelegramSender(server.url, SECRET, api)
    wait_until(lambda: server.tg.post({"update_id": 1}).status_code == 200, timeout=10)
    return server


@pytest.fixture
def live(settings, clean_redis, tg_api):
    server = start_live(tg_settings(settings, tg_api), clean_redis, tg_api)
    yield server
    server.__exit__(None, None, None)




def onboard(tg, chat, lang="zh-hans"):
    """/start → welcome + consent (inline keyboard) → press 同意 → main menu."""
    welcome = tg.say(chat, "/start", lang)
    consent = welcome[-1]
    assert "同意" in consent["text"] or "agree" in consent["text"].lower()
    values = button_values(consent)
    assert "consent_yes" in values.values()
    menu = tg.press(chat, consent, "consent_yes", lang)
    assert menu and button_values(menu[-1])
    return menu[-1]


# -- webhook security and input ------------------------------------------------------------------
def test_webhook_checks_the_secret_token(live):
    upd = message_update(5001, "你好")
    assert live.tg.post(upd, secret="").status_code == 403
    assert live.tg.post(upd, secret="wrong-secret").status_code == 403
    assert live.tg.fake.messages_to(5001) == []
    assert live.tg.post(upd).status_code == 200
    assert live.tg.fake.messages_to(5001)


def test_webhook_refuses_everything_without_a_configured_secret(settings, clean_redis, tg_api):
    s = tg_settings(settings, tg_api, telegram_secret_token=None)
    with LiveServer(s, clean_redis, None) as server:
        tg = TelegramSender(server.url, "", tg_api)
        assert tg.post(message_update(5002, "你好"), secret="").status_code == 403


def test_malformed_updates_get_400(live):
    import httpx
    h = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    assert httpx.post(live.tg.url, content=b"{not json", headers=h).status_code == 400
    assert httpx.post(live.tg.url, json=["a"], headers=h).status_code == 400
    assert httpx.post(live.tg.url, json={"no": "update_id"}, headers=h).status_code == 400
    assert httpx.post(live.tg.url, content=b"x" * (1024 * 1024), headers=h).status_code == 413


# -- conversations ----------------------------------------------------------------------------------
def test_welcome_consent_menu_hotline_with_inline_keyboards(live):
    tg, chat = live.tg, 5101
    menu = onboard(tg, chat)
    numbers = tg.press(chat, menu, button(menu, "热线"))
    assert any("12356" in m["text"] for m in numbers)
    # every option is a button whose callback_data is the option value; the numbered text is not needed
    assert "（回复数字即可选择）" not in numbers[-1]["text"]


def test_typed_digits_still_work(live):
    tg, chat = live.tg, 5102
    welcome = tg.say(chat, "/start")
    assert button_values(welcome[-1])
    menu = tg.say(chat, "1")                   # 同意, typed
    assert button_values(menu[-1])


def test_commands_map_onto_router_inputs(live):
    tg, chat = live.tg, 5103
    onboard(tg, chat)
    assert button_values(tg.say(chat, "/menu")[-1])
    assert any("12356" in m["text"] for m in tg.say(chat, "/sos"))
    help_ = tg.say(chat, "/help")
    assert "/sos" in help_[0]["text"] and button_values(help_[-1])
    assert tg.say(chat, "/privacy")
    assert tg.say(chat, "/screen")
    assert tg.say(chat, "/delete")
    assert "/sos" in tg.say(chat, "/nonsense@xinyi_test_bot")[0]["text"]     # unknown: the help
    assert open_cases(live.runtime.redis_url) == []


def test_english_users_get_english_channel_texts(live):
    tg, chat = live.tg, 5104
    tg.say(chat, "/start", lang="en")
    help_ = tg.say(chat, "/help", lang="en")
    assert "Commands" in help_[0]["text"]
    r = sync_redis.Redis.from_url(live.runtime.redis_url)
    user = pseudonym(live.settings.id_secret.get_secret_value(), "telegram", str(chat))
    assert r.hget(keys.user_profile(user), "lang") == b"en"
    r.close()


def test_media_gets_a_polite_answer_and_the_menu(live):
    tg, chat = live.tg, 5105
    onboard(tg, chat)
    for extra in [{"photo": [{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]},
                  {"voice": {"file_id": "f", "file_unique_id": "u", "duration": 2}},
                  {"sticker": {"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1, "is_animated": False,
                               "is_video": False, "type": "regular"}},
                  {"location": {"latitude": 39.9, "longitude": 116.4}}]:
        replies = tg.deliver(message_update(chat, None, **extra), chat)
        assert replies and button_values(replies[-1]), extra


def test_group_messages_are_ignored(live):
    tg = live.tg
    upd = message_update(5106, "我想自杀")
    upd["message"]["chat"] = {"id": -100999, "type": "group", "title": "某群"}
    assert tg.post(upd).status_code == 200
    assert tg.fake.messages_to(-100999) == []


# -- crisis, duplicates, staff reply -----------------------------------------------------------------
def test_crisis_gets_the_safety_reply_one_case_and_the_staff_reply(live, clean_redis):
    tg, chat = live.tg, 5201
    onboard(tg, chat)
    upd = message_update(chat, "我想自杀")
    started = time.monotonic()
    replies = tg.deliver(upd, chat)
    assert time.monotonic() - started < 1.0
    assert "12356" in replies[0]["text"]
    assert tg.deliver(upd, chat) == []              # Telegram delivers the same update again: no second answer
    assert tg.deliver(upd, chat) == []
    cases = open_cases(clean_redis)
    assert len(cases) == 1
    before = len(tg.fake.messages_to(chat))
    staff_reply(live.settings, clean_redis, cases[0], "我是值班的李老师，我在这里陪你。")
    msgs = tg.fake.wait_messages(chat, before + 1)
    assert msgs[-1]["text"] == "【值班人员】我是值班的李老师，我在这里陪你。"
    assert len(msgs) == before + 1                  # the duplicates produced no extra replies


def test_the_running_pager_pages_the_staff_group_without_message_text(live, clean_redis, tg_api):
    tg, chat = live.tg, 5204
    onboard(tg, chat)
    tg.say(chat, "今晚就从楼顶跳下去")
    [case_id] = open_cases(clean_redis)
    [note] = wait_until(lambda: [m for m in tg_api.messages_to(STAFF_CHAT) if case_id in m["text"]], timeout=5)
    assert "紧急" in note["text"] and "/console/case/" in note["text"]
    assert "楼顶" not in note["text"] and str(chat) not in note["text"]


def test_a_retried_update_is_processed_once(live, clean_redis):
    tg, chat = live.tg, 5202
    onboard(tg, chat)
    upd = message_update(chat, "我不想活了，想自杀")
    first = tg.deliver(upd, chat)
    again = tg.deliver(upd, chat)
    assert first and again == []
    assert len(open_cases(clean_redis)) == 1


def test_flood_limit_retry_after_is_honoured(live):
    tg, chat = live.tg, 5203
    tg.fake.flood_next, tg.fake.retry_after = 1, 1
    started = time.monotonic()
    replies = tg.say(chat, "/start")
    assert replies and time.monotonic() - started >= 1.0
    sends = [c for c in tg.fake.calls if c[0] == "sendMessage" and int(c[1]["chat_id"]) == chat]
    assert sends[1][2] - sends[0][2] >= 1.0          # the retry came after retry_after


def test_blocked_bot_is_recorded_on_the_case(live, clean_redis):
    tg, chat = live.tg, 5204
    onboard(tg, chat)
    tg.say(chat, "我想自杀")
    case_id = open_cases(clean_redis)[0]
    tg.fake.blocked.add(chat)
    staff_reply(live.settings, clean_redis, case_id, "你还在吗？")
    events = wait_until(lambda: undelivered(clean_redis, case_id))
    assert "blocked" in events[0]["event"] and events[0]["actor"] == "telegram"


def test_my_chat_member_kicked_marks_the_user_unreachable(live, clean_redis):
    tg, chat = live.tg, 5205
    onboard(tg, chat)
    tg.say(chat, "我想自杀")
    case_id = open_cases(clean_redis)[0]
    upd = {"update_id": 990001, "my_chat_member": {
        "chat": private_chat(chat), "from": {"id": chat, "is_bot": False, "first_name": "职工"}, "date": int(time.time()),
        "old_chat_member": {"status": "member", "user": {"id": 424242, "is_bot": True, "first_name": "Xinyi"}},
        "new_chat_member": {"status": "kicked", "until_date": 0,
                            "user": {"id": 424242, "is_bot": True, "first_name": "Xinyi"}}}}
    assert tg.post(upd).status_code == 200
    assert wait_until(lambda: [h for h in case_history(clean_redis, case_id) if "blocked" in h.get("event", "")])
    staff_reply(live.settings, clean_redis, case_id, "你还在吗？")
    assert "blocked" in wait_until(lambda: undelivered(clean_redis, case_id))[0]["event"]


# -- staff group: notification and claim ------------------------------------------------------------
async def test_staff_group_notification_and_claim_button(live, clean_redis, tg_api):
    from bot.channels.telegram import TelegramChannel
    from bot.channels.telegram_staff import TelegramStaffNotifier
    from tests.fakes.staff import create_staff
    tg, chat = live.tg, 5301
    await asyncio.to_thread(onboard, tg, chat)
    await asyncio.to_thread(tg.say, chat, "我想自杀")
    case_id = open_cases(clean_redis)[0]
    create_staff(clean_redis, "duty1", "pw-123456789", org="city")

    runtime = build_runtime(live.settings, clean_redis, None)     # a pager worker elsewhere
    channel = TelegramChannel(runtime)
    await channel.start()
    try:
        notifier = TelegramStaffNotifier(channel)
        assert notifier.name == "telegram"
        await notifier.notify(await runtime.cases.get(case_id))
    finally:
        await channel.stop()
        await runtime.close()
    note = tg_api.messages_to(STAFF_CHAT)[-1]
    assert case_id in note["text"] and "/console/case/" in note["text"]
    assert "自杀" not in note["text"] and str(chat) not in note["text"]    # never message text or ids
    assert button_values(note) == {"接手 Claim": f"claim:{case_id}"}

    staff_chat = {"id": STAFF_CHAT, "type": "supergroup", "title": "值班群"}
    stranger = callback_update(STAFF_CHAT, f"claim:{case_id}", note, from_id=999, chat=staff_chat)
    assert (await asyncio.to_thread(tg.post, stranger)).status_code == 200
    assert tg_api.answered[-1].get("show_alert") in ("true", True)
    r = sync_redis.Redis.from_url(clean_redis)
    assert r.hget(keys.case(case_id), "status") != b"claimed"
    press = callback_update(STAFF_CHAT, f"claim:{case_id}", note, from_id=STAFF_TG_USER, chat=staff_chat)
    assert (await asyncio.to_thread(tg.post, press)).status_code == 200
    assert r.hget(keys.case(case_id), "status") == b"claimed"
    assert r.hget(keys.case(case_id), "claimed_by") == b"duty1"
    assert "接手" in tg_api.edited[-1]["text"]
    again = callback_update(STAFF_CHAT, f"claim:{case_id}", note, from_id=STAFF_TG_USER, chat=staff_chat)
    await asyncio.to_thread(tg.post, again)
    assert "已被" in tg_api.answered[-1]["text"]
    r.close()


# -- development: long polling, set-webhook -------------------------------------------------------
async def test_long_polling_feeds_the_same_path(settings, clean_redis, tg_api):
    from bot.channels.telegram import TelegramChannel
    s = tg_settings(settings, tg_api)
    runtime = build_runtime(s, clean_redis, None)
    channel = TelegramChannel(runtime)
    await channel.start()
    stop = asyncio.Event()
    poller = asyncio.create_task(channel.poll(stop, timeout=1))
    try:
        tg_api.push_update(message_update(5401, "/start"))
        await asyncio.to_thread(tg_api.wait_messages, 5401, 1)
        assert any(c[0] == "deleteWebhook" for c in tg_api.calls)
        await channel.set_webhook("https://xinyi.example.org/telegram/webhook")
        assert tg_api.webhook["secret_token"] == SECRET
        assert tg_api.webhook["url"] == "https://xinyi.example.org/telegram/webhook"
    finally:
        stop.set()
        await asyncio.wait_for(poller, 5)
        await channel.stop()
        await runtime.close()


def test_with_redis_down_a_crisis_still_gets_the_safety_reply(settings, tg_api):
    from tests.live import free_port
    server = start_live(tg_settings(settings, tg_api), f"redis://127.0.0.1:{free_port()}/0", tg_api)
    try:
        replies = server.tg.say(5501, "我想自杀")
        assert replies and "12356" in replies[0]["text"]
        assert server.runtime.spool.pending() == 1
    finally:
        server.__exit__(None, None, None)
