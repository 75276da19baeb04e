"""The WeChat official account at the protocol level.

The real app runs on loopback; requests are built exactly as WeChat sends them (signed;
in safe mode encrypted with wechatpy's WeChatCrypto); the customer-service messages go
through wechatpy's WeChatClient to a fake WeChat API on loopback.
"""
import base64
import os
import secrets
import threading
import time

import httpx
import pytest
import redis as sync_redis

from core import keys
from core.pseudonym import pseudonym
from tests.fakes.wechat_api import FakeWeChatAPI
from tests.fakes.wechat_client import WeChatSender, message_xml, sign
from tests.fakes.staff import open_cases
from tests.live import LiveServer
from tests.fakes.flows import choose
from tests.fakes.settings import with_settings

TOKEN = "xinyiWechatToken123"
APPID = "wx_test_appid"


def aes_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()[:43]


@pytest.fixture
def wechat_api():
    with FakeWeChatAPI(APPID) as api:
        yield api


def wechat_settings(settings, api, safe=True, **extra):
    values = dict(wechat_token=TOKEN, wechat_appid=APPID, wechat_secret=api.secret, wechat_api_base=api.base_url,
                  outbox_retry_s=0.3)
    if safe:
        values["wechat_aes_key"] = aes_key()
    values.update(extra)
    return with_settings(settings, **values)


@pytest.fixture(params=["safe", "plain"])
def live(request, settings, clean_redis, wechat_api):
    s = wechat_settings(settings, wechat_api, safe=request.param == "safe")
    with LiveServer(s, clean_redis, None) as server:
        server.sender = WeChatSender(server.url, TOKEN, s.wechat_aes_key.get_secret_value() if s.wechat_aes_key else None,
                                     APPID)
        yield server


@pytest.fixture
def safe_live(settings, clean_redis, wechat_api):
    s = wechat_settings(settings, wechat_api, safe=True)
    with LiveServer(s, clean_redis, None) as server:
        server.sender = WeChatSender(server.url, TOKEN, s.wechat_aes_key.get_secret_value(), APPID)
        yield server


def openid() -> str:
    return "o" + secrets.token_urlsafe(20)


def onboard(sender, who):
    """subscribe → welcome + consent; 1 → consent given, main menu."""
    welcome = sender.reply_text(sender.send(who, "event", Event="subscribe", EventKey=""))
    assert "心驿" in welcome and "同意" in welcome
    menu = sender.say(who, "1")
    assert "想从哪里开始" in menu
    return menu




# -- URL verification, signatures, freshness, hardening -------------------------------------
def test_url_verification_echoes_only_with_a_valid_signature(safe_live):
    ts, nonce = str(int(time.time())), "12345"
    ok = httpx.get(f"{safe_live.url}/wechat", params={"signature": sign(TOKEN, ts, nonce), "timestamp": ts,
                                                       "nonce": nonce, "echostr": "echo-987"})
    assert ok.status_code == 200 and ok.text == "echo-987"
    bad = httpx.get(f"{safe_live.url}/wechat", params={"signature": "0" * 40, "timestamp": ts, "nonce": nonce,
                                                        "echostr": "echo-987"})
    assert bad.status_code == 403 and "echo-987" not in bad.text


def test_bad_signature_and_stale_timestamp_are_refused(safe_live, clean_redis):
    sender, who = safe_live.sender, openid()
    xml = message_xml(who, "text", Content="我想自杀")
    params = sender.params(who)
    params["signature"] = sign("wrong-token", params["timestamp"], params["nonce"])
    resp, _ = sender.post_xml(xml, params=params)
    assert resp.status_code == 403
    resp, _ = sender.post_xml(xml, who, timestamp=int(time.time()) - 3600)   # a replay an hour later
    assert resp.status_code == 403
    resp, q = sender.post_xml(xml, who)
    tampered = dict(q, msg_signature="f" * 40)
    assert httpx.post(sender.url, params=tampered, content=b"<xml><Encrypt><![CDATA[AAAA]]></Encrypt></xml>").status_code == 403
    assert open_cases(clean_redis) != [] and len(open_cases(clean_redis)) == 1  # only the genuine one counted


def test_plaintext_is_refused_once_safe_mode_is_configured(safe_live):
    plain = WeChatSender(safe_live.url, TOKEN, None, APPID)
    assert plain.send(openid(), "text", Content="你好").status_code == 403


def test_malformed_hostile_and_oversized_bodies(live):
    sender, who = live.sender, openid()
    q = sender.params(who)
    post = lambda body: httpx.post(sender.url, params=q, content=body)  # noqa: E731
    assert post(b"<xml><ToUserName>broken").status_code == 400
    assert post(b"not xml at all").status_code == 400
    assert post(b"<xml></xml>").status_code == 400
    assert post(b"<other><a>1</a></other>").status_code == 400
    xxe = (b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
           b'<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><MsgType>text</MsgType>'
           b'<Content>&xxe;</Content></xml>')
    assert post(xxe).status_code == 400
    laughs = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><xml><Content>&b;</Content></xml>'
    assert post(laughs).status_code == 400
    assert post(b"<xml>" + b"x" * (1024 * 1024) + b"</xml>").status_code == 413
    # an encrypted body that does not decrypt, in safe mode
    if sender.crypto is not None:
        enc = b"<xml><Encrypt><![CDATA[bm90IGEgY2lwaGVydGV4dA==]]></Encrypt></xml>"
        q2 = dict(q, encrypt_type="aes", msg_signature=sign(TOKEN, q["timestamp"], q["nonce"], "bm90IGEgY2lwaGVydGV4dA=="))
        assert httpx.post(sender.url, params=q2, content=enc).status_code == 400
    # still serving
    assert "心驿" in sender.reply_text(sender.send(who, "event", Event="subscribe"))


# -- every message and event type -----------------------------------------------------------
def test_every_message_and_event_type_gets_a_sensible_answer(live, clean_redis):
    sender, who = live.sender, openid()
    onboard(sender, who)
    # voice with recognition is text; without, it is explained and the menu offered
    assert "热线" in sender.reply_text(sender.send(who, "voice", MediaId="m1", Format="amr", Recognition="心理援助热线"))
    no_voice = sender.reply_text(sender.send(who, "voice", MediaId="m1", Format="amr", Recognition=""))
    assert "看不懂" in no_voice and "想从哪里开始" in no_voice
    for msg_type, fields in [
        ("image", {"PicUrl": "http://example.org/a.jpg", "MediaId": "m2"}),
        ("video", {"MediaId": "m3", "ThumbMediaId": "t3"}),
        ("shortvideo", {"MediaId": "m4", "ThumbMediaId": "t4"}),
        ("location", {"Location_X": 39.9, "Location_Y": 116.4, "Scale": 15, "Label": "某某大厦"}),
        ("link", {"Title": "一篇文章", "Description": "d", "Url": "http://example.org"}),
        ("file", {"Title": "a.pdf", "Description": "d", "FileKey": "k", "FileMd5": "x", "FileTotalLen": 10}),
        ("brand_new_type", {"Whatever": "x"}),
    ]:
        reply = sender.reply_text(sender.send(who, msg_type, **fields))
        assert reply and "看不懂" in reply and "想从哪里开始" in reply, msg_type
    # menu CLICK → the configured router input
    assert "12356" in sender.reply_text(sender.send(who, "event", Event="CLICK", EventKey="SOS"))
    assert "想从哪里开始" in sender.reply_text(sender.send(who, "event", Event="CLICK", EventKey="MENU"))
    assert "想从哪里开始" in sender.reply_text(sender.send(who, "event", Event="CLICK", EventKey="NO_SUCH_KEY"))
    # VIEW and status events need no answer
    assert sender.reply_text(sender.send(who, "event", Event="VIEW", EventKey="https://example.org")) is None
    assert sender.reply_text(sender.send(who, "event", Event="LOCATION", Latitude=1, Longitude=2, Precision=3)) is None
    assert sender.reply_text(sender.send(who, "event", Event="TEMPLATESENDJOBFINISH", Status="success")) is None
    # SCAN of an organisation's QR code: the menu, and the organisation remembered
    assert "想从哪里开始" in sender.reply_text(sender.send(who, "event", Event="SCAN", EventKey="haidian", Ticket="t"))
    assert open_cases(clean_redis) == []


def test_subscribe_with_an_org_qr_code_and_unsubscribe_ends_the_session(live, clean_redis):
    sender, who = live.sender, openid()
    welcome = sender.reply_text(sender.send(who, "event", Event="subscribe", EventKey="qrscene_haidian", Ticket="t"))
    assert "同意" in welcome
    user = pseudonym(live.settings.id_secret.get_secret_value(), "wechat", who)
    r = sync_redis.Redis.from_url(clean_redis)
    assert "haidian" in live.runtime.sealer.open(r.get(keys.session(user)).decode())  # sessions are sealed
    assert sender.reply_text(sender.send(who, "event", Event="unsubscribe")) is None
    assert r.get(keys.session(user)) is None
    assert r.hget(keys.user_profile(user), "state") == b"unsubscribed"
    # coming back: welcome and consent again
    assert "同意" in sender.reply_text(sender.send(who, "event", Event="subscribe"))
    r.close()


def test_multi_step_flow_welcome_consent_menu_hotline(live):
    sender, who = live.sender, openid()
    menu = onboard(sender, who)
    hotline = sender.say(who, choose(menu, "热线"))
    assert "12356" in hotline and "12351" in hotline     # and the note that 12351 is not a crisis line
    assert "想从哪里开始" in sender.say(who, "菜单")


# -- retries and duplicates -------------------------------------------------------------------
def test_three_deliveries_of_one_crisis_message_make_one_case_and_one_answer(live, clean_redis):
    sender, who = live.sender, openid()
    onboard(sender, who)
    xml = message_xml(who, "text", Content="我不想活了，我想自杀", msg_id=7_000_000_000_000_001)
    answers = []
    started = time.monotonic()
    for _ in range(3):   # WeChat's retries: the same message, each signed afresh
        resp, q = sender.post_xml(xml, who)
        answers.append(sender.reply_text(resp, q))
    assert time.monotonic() - started < 3
    assert answers[0] == answers[1] == answers[2]
    assert "12356" in answers[0] and "值班" in answers[0]
    assert len(open_cases(clean_redis)) == 1
    user = pseudonym(live.settings.id_secret.get_secret_value(), "wechat", who)
    r = sync_redis.Redis.from_url(clean_redis)
    users = [e for e in r.xrange(keys.transcript(user)) if e[1][b"role"] == b"user"]
    assert len(users) == 3    # subscribe, "1", and the crisis message once
    r.close()


def test_concurrent_retries_on_several_workers_agree(safe_live, clean_redis, wechat_api):
    """Two app workers (same Redis) receive the same delivery at once: one processes, both answer alike."""
    s2 = safe_live.settings
    with LiveServer(s2, clean_redis, None) as second:
        who = openid()
        onboard(safe_live.sender, who)
        xml = message_xml(who, "text", Content="我想自杀", msg_id=7_000_000_000_000_002)
        senders = [safe_live.sender, WeChatSender(second.url, TOKEN, s2.wechat_aes_key.get_secret_value(), APPID)]
        answers = [None] * 4

        def deliver(i):
            resp, q = senders[i % 2].post_xml(xml, who)
            answers[i] = senders[i % 2].reply_text(resp, q)
        threads = [threading.Thread(target=deliver, args=(i,)) for i in range(4)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert len(set(answers)) == 1 and "12356" in answers[0]
        assert len(open_cases(clean_redis)) == 1


def test_event_retries_are_deduplicated_on_user_and_create_time(live):
    sender, who = live.sender, openid()
    xml = message_xml(who, "event", create_time=int(time.time()), Event="subscribe")
    first = sender.reply_text(*sender.post_xml(xml, who))
    again = sender.reply_text(*sender.post_xml(xml, who))
    assert first == again and "同意" in first


def test_with_redis_down_a_crisis_still_gets_the_safety_reply(settings, wechat_api, tmp_path):
    from tests.live import free_port
    s = wechat_settings(settings, wechat_api, safe=True)
    with LiveServer(s, f"redis://127.0.0.1:{free_port()}/0", None) as server:
        sender = WeChatSender(server.url, TOKEN, s.wechat_aes_key.get_secret_value(), APPID)
        who = openid()
        reply = sender.say(who, "我想自杀")
        assert "12356" in reply
        assert "稍后" in sender.say(who, "你好")       # not a crisis: received, will answer later
        assert server.runtime.spool.pending() == 2    # both replayed into Redis when it is back
