"""WeChat's push side: customer-service messages through wechatpy's WeChatClient to the fake
WeChat API — staff replies from the console, the 5-second rule, the 48 h / 5-message window,
and the access_token shared by every worker."""
import asyncio
import time

import pytest
import redis as sync_redis

from bot.channels.wechat_api import WeChatAPI, WeChatAPIError
from core import keys
from core.pseudonym import pseudonym
from tests.fakes.server import wait_until
from tests.fakes.staff import staff_reply, undelivered
from tests.fakes.wechat_client import WeChatSender, message_xml
from tests.live import LiveServer
from tests.test_wechat import APPID, TOKEN, onboard, open_cases, openid, wechat_settings, wechat_api  # noqa: F401


@pytest.fixture
def live(settings, clean_redis, wechat_api):  # noqa: F811
    s = wechat_settings(settings, wechat_api, safe=True)
    with LiveServer(s, clean_redis, None) as server:
        server.sender = WeChatSender(server.url, TOKEN, s.wechat_aes_key.get_secret_value(), APPID)
        yield server


def test_crisis_over_wechat_and_the_staff_reply_arrives_as_a_customer_service_message(live, clean_redis, wechat_api):  # noqa: F811
    sender, who = live.sender, openid()
    onboard(sender, who)
    started = time.monotonic()
    safety = sender.say(who, "我想自杀，药已经吃了")
    assert time.monotonic() - started < 1.0
    assert "12356" in safety and "120" in safety
    cases = open_cases(clean_redis)
    assert len(cases) == 1
    case_id = cases[0]
    staff_reply(live.settings, clean_redis, case_id, "我是值班的李老师，我在这里陪你。")
    texts = wechat_api.wait_texts(who, 1)
    assert texts == ["【值班人员】我是值班的李老师，我在这里陪你。"]
    # while a person has taken over, the bot stays quiet (the reply to WeChat is `success`)
    assert sender.say(who, "谢谢你") is None
    assert undelivered(clean_redis, case_id) == []


def test_a_reply_outside_the_48_hour_window_is_shown_to_staff(live, clean_redis, wechat_api):  # noqa: F811
    sender, who = live.sender, openid()
    onboard(sender, who)
    sender.say(who, "我想自杀")
    case_id = open_cases(clean_redis)[0]
    user = pseudonym(live.settings.id_secret.get_secret_value(), "wechat", who)
    r = sync_redis.Redis.from_url(clean_redis)
    r.hset(keys.wechat_window(user), "last_in", repr(time.time() - 49 * 3600))
    staff_reply(live.settings, clean_redis, case_id, "你还好吗？")
    events = wait_until(lambda: undelivered(clean_redis, case_id))
    assert "48-hour" in events[0]["event"] and events[0]["actor"] == "wechat"
    assert wechat_api.texts_to(who) == []
    r.close()


def test_at_most_five_customer_service_messages_per_user_message(live, clean_redis, wechat_api):  # noqa: F811
    sender, who = live.sender, openid()
    onboard(sender, who)
    sender.say(who, "我想自杀")
    case_id = open_cases(clean_redis)[0]
    for i in range(6):
        staff_reply(live.settings, clean_redis, case_id, f"第{i + 1}条")
    events = wait_until(lambda: undelivered(clean_redis, case_id))
    assert len(wechat_api.texts_to(who)) == 5
    assert "5 customer-service" in events[0]["event"]
    # the user writes again: a fresh quota, and new replies go out
    assert sender.say(who, "我还在") is None
    staff_reply(live.settings, clean_redis, case_id, "好的，我看到了")
    assert wechat_api.wait_texts(who, 6)[-1].endswith("好的，我看到了")


def test_platform_refusal_is_recorded_and_a_temporary_error_is_retried(live, clean_redis, wechat_api):  # noqa: F811
    sender, who = live.sender, openid()
    onboard(sender, who)
    sender.say(who, "我想自杀")
    case_id = open_cases(clean_redis)[0]
    wechat_api.fail_next = [-1]                       # 系统繁忙: retried
    staff_reply(live.settings, clean_redis, case_id, "第一条")
    assert wechat_api.wait_texts(who, 1) == ["【值班人员】第一条"]
    wechat_api.errors[who] = 43004                     # unsubscribed meanwhile: recorded, not retried
    staff_reply(live.settings, clean_redis, case_id, "第二条")
    events = wait_until(lambda: undelivered(clean_redis, case_id))
    assert "unsubscribed" in events[0]["event"] and "43004" in events[0]["event"]


def test_five_second_rule_success_then_customer_service_message(settings, clean_redis, wechat_api):  # noqa: F811
    s = wechat_settings(settings, wechat_api, safe=True, wechat_reply_budget_s=0.4)
    with LiveServer(s, clean_redis, None) as live:
        sender, who = WeChatSender(live.url, TOKEN, s.wechat_aes_key.get_secret_value(), APPID), openid()
        onboard(sender, who)
        handle = live.runtime.router.handle

        async def slow(msg):
            await asyncio.sleep(1.0)   # Redis or NLU slow beyond the budget
            return await handle(msg)
        live.runtime.router.handle = slow
        xml = message_xml(who, "text", Content="我想自杀", msg_id=7_000_000_000_000_111)
        started = time.monotonic()
        resp, q = sender.post_xml(xml, who)
        assert time.monotonic() - started < 0.9
        assert sender.reply_text(resp, q) is None            # `success`: WeChat will not retry
        resp, q = sender.post_xml(xml, who)                  # a retry meanwhile: also `success`, not processed again
        assert sender.reply_text(resp, q) is None
        texts = wechat_api.wait_texts(who, 1, timeout=5)
        assert "12356" in texts[0]
        live.runtime.router.handle = handle
        time.sleep(0.3)
        assert len(wechat_api.texts_to(who)) == 1
        assert len(open_cases(clean_redis)) == 1


def test_a_long_answer_is_split_passive_first_then_pushed(live, wechat_api):  # noqa: F811
    from bot.channels.wechat import TEXT_LIMIT, WeChatChannel
    from bot.messages import Outbound, Option
    long = Outbound("很长的一段话。" * 200, (Option("好", "ok"),))
    passive, rest = WeChatChannel._split([Outbound("你好"), long])
    assert len(passive.encode()) <= TEXT_LIMIT and rest
    assert all(len(p.encode()) <= TEXT_LIMIT for p in rest)
    assert rest[-1].endswith("（回复数字即可选择）")


# -- the shared access_token ------------------------------------------------------------------
def make_api(redis_url, wechat_api):  # noqa: F811
    return WeChatAPI(APPID, wechat_api.secret, redis_url, wechat_api.base_url)


async def test_one_token_for_all_workers_refreshed_on_expiry_and_on_invalid_token(clean_redis, wechat_api):  # noqa: F811
    workers = [make_api(clean_redis, wechat_api) for _ in range(3)]
    try:
        await asyncio.gather(*(w.send_text("o1", f"hi {i}") for i, w in enumerate(workers) for _ in range(3)))
        assert wechat_api.token_fetches == 1
        assert len(wechat_api.texts_to("o1")) == 9
        wechat_api.expire_token()                       # 42001 / 40001 on the next calls
        await asyncio.gather(*(w.send_text("o1", "again") for w in workers))
        assert wechat_api.token_fetches == 2            # one refresh, not three
        assert len(wechat_api.texts_to("o1")) == 12
        r = sync_redis.Redis.from_url(clean_redis)
        ttl = r.ttl(f"{keys.WECHAT_SESSION}:{APPID}_access_token")
        assert 7200 - 400 < ttl <= 7200 - 300           # refreshed a margin before WeChat's expiry
        r.delete(f"{keys.WECHAT_SESSION}:{APPID}_access_token")   # expired in Redis
        await workers[0].send_text("o1", "after expiry")
        assert wechat_api.token_fetches == 3
        r.close()
    finally:
        for w in workers:
            w.close()


async def test_a_token_that_keeps_failing_does_not_loop(clean_redis, wechat_api):  # noqa: F811
    api = make_api(clean_redis, wechat_api)
    try:
        await api.send_text("o1", "hi")
        wechat_api.reject_tokens = True       # every token is refused (e.g. IP not on the allow-list)
        with pytest.raises(WeChatAPIError) as err:
            await api.send_text("o1", "hi")
        assert err.value.errcode == 40001
        assert wechat_api.token_fetches == 2  # one refresh, one retry, then the error — no loop
    finally:
        api.close()


async def test_menu_push_builds_the_wechat_menu_from_yaml(clean_redis, wechat_api):  # noqa: F811
    from bot.channels.wechat_menu import load_menu
    from bot.settings import ROOT
    menu = load_menu(ROOT / "config" / "wechat_menu.yaml")
    api = make_api(clean_redis, wechat_api)
    try:
        await api.create_menu(menu.wechat_json)
        got = (await api.get_menu())["menu"]
    finally:
        api.close()
    names = [b["name"] for b in got["button"]]
    assert names == ["自助内容", "测评与咨询", "紧急求助"]
    subs = [s["name"] for b in got["button"] for s in b.get("sub_button", [])]
    assert "心理测评" in subs and "预约咨询" in subs


def test_menu_yaml_is_checked(tmp_path):
    from bot.channels.wechat_menu import MenuError, load_menu
    bad = tmp_path / "menu.yaml"
    bad.write_text("buttons:\n" + "".join(f"  - {{name: 按钮{i}, key: K{i}, send: {{text: 菜单}}}}\n" for i in range(4))
                   + "", encoding="utf-8")
    with pytest.raises(MenuError) as err:
        load_menu(bad)
    assert "3 top-level" in str(err.value)
    bad.write_text("buttons:\n  - {name: 一个非常非常长的按钮名字, key: lower, send: {option: nope}}\n", encoding="utf-8")
    with pytest.raises(MenuError) as err:
        load_menu(bad, {"hotline"})
    msg = str(err.value)
    assert "16 bytes" in msg and "A-Z" in msg and "not a flow id" in msg
