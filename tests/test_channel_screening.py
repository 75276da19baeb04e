"""A full PHQ-2 → PHQ-9 screening over WeChat and over Telegram, answered as an employee would:
numbered replies on WeChat, inline buttons on Telegram. Item 9 above 0 must open a case."""
import pytest

from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.telegram_client import button
from tests.fakes.wechat_api import FakeWeChatAPI
from tests.live import LiveServer
from tests.test_telegram import onboard as tg_onboard, open_cases, start_live, tg_settings
from tests.test_wechat import APPID, TOKEN, WeChatSender, onboard as wx_onboard, openid, wechat_settings

ALWAYS = "几乎每天"          # 3 points
SEVERAL_DAYS = "好几天"      # 1 point


def test_phq9_over_wechat_scores_bands_and_escalates_item_9(settings, clean_redis):
    with FakeWeChatAPI(APPID) as api:
        s = wechat_settings(settings, api, safe=True)
        with LiveServer(s, clean_redis, None) as live:
            sender = WeChatSender(live.url, TOKEN, s.wechat_aes_key.get_secret_value(), APPID)
            who = openid()
            wx_onboard(sender, who)
            reply = sender.say(who, "情绪自评")
            assert "1. 完全不会" in reply and "4. 几乎每天" in reply   # options as numbered lines
            for _ in range(8):                                          # items 1–8: 3 points each
                reply = sender.say(who, "4")
            assert open_cases(clean_redis) == []
            reply = sender.say(who, "2")                                # item 9: 1 point
            texts = (reply or "") + "".join(api.texts_to(who))
            assert "25 分" in texts and "诊断" not in texts.replace("不是诊断", "")
            assert len(open_cases(clean_redis)) == 1


def test_phq9_over_telegram_with_buttons_scores_and_escalates_item_9(settings, clean_redis):
    with FakeTelegramAPI() as api:
        live = start_live(tg_settings(settings, api), clean_redis, api)
        try:
            chat = 7301
            tg_onboard(live.tg, chat)
            shown = live.tg.say(chat, "情绪自评")[-1]
            for _ in range(8):
                shown = live.tg.press(chat, shown, button(shown, ALWAYS))[-1]
            assert open_cases(clean_redis) == []
            result = live.tg.press(chat, shown, button(shown, SEVERAL_DAYS))
            texts = "\n".join(m["text"] for m in result)
            assert "25 分" in texts
            assert len(open_cases(clean_redis)) == 1
        finally:
            live.__exit__(None, None, None)
