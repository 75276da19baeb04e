"""WeChat and Telegram channel throughput and latency at 50 concurrent users.

Real components: the ASGI app (uvicorn, one worker) with the WeChat endpoint in safe mode
(every request signed and AES-encrypted with wechatpy's WeChatCrypto, every reply decrypted)
and the Telegram webhook (python-telegram-bot 22 sending through the fake Bot API), the
embedded Redis, and the loopback fake WeChat / Telegram API servers. The app and the fakes
run in a child process; this process only generates load. No Rasa (menu, digits, keywords).

Latency is what the employee waits for: WeChat — the POST until the passive reply is back;
Telegram — the webhook POST until its replies were sent to the (fake) Bot API, which the
webhook awaits. Telegram is measured with PTB's AIORateLimiter on (production: Telegram's
30 msg/s cap) and off (Xinyi's own overhead).

    .venv/bin/python bench/bench_channels.py [--users 50] [--messages 20]
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx
import xmltodict

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stats import pct  # noqa: E402

TOKEN, APPID, SECRET = "benchWechatToken", "wx_bench_appid", "bench-webhook-secret"
MIX = ["最近压力很大，睡不着", "有没有心理热线", "2", "菜单", "今天天气怎么样", "老板天天骂人，好烦", "谢谢", "1",
       "我想找人聊聊", "0"]



# -- the child: Redis, fakes and the app --------------------------------------------------------
def serve(channel: str, rate_limit: bool, conn) -> None:
    import logging
    logging.disable(logging.WARNING)
    from core.embedded_redis import EmbeddedRedis
    from tests.fakes.settings import with_settings
    from tests.fakes.telegram_api import FakeTelegramAPI
    from tests.fakes.wechat_api import FakeWeChatAPI
    from tests.live import LiveServer, make_settings
    tmp = Path(tempfile.mkdtemp(prefix="xinyi-bench-ch-"))
    redis = EmbeddedRedis(tmp / "redis").start()
    settings = make_settings(tmp)
    if channel == "wechat":
        fake = FakeWeChatAPI(APPID).start()
        aes = base64.b64encode(os.urandom(32)).decode()[:43]
        settings = with_settings(settings, wechat_token=TOKEN, wechat_aes_key=aes, wechat_appid=APPID,
                                 wechat_secret=fake.secret, wechat_api_base=fake.base_url)
        extra = {"aes": aes}
    else:
        fake = FakeTelegramAPI().start()
        settings = with_settings(settings, telegram_token=fake.token, telegram_secret_token=SECRET,
                                 telegram_api_base=fake.base_url, telegram_rate_limit=rate_limit)
        extra = {}
    with LiveServer(settings, redis.url, None) as live:
        conn.send({"url": live.url, **extra})
        conn.recv()   # done
        conn.send({"sent": len(fake.sent)})
    fake.stop()
    redis.stop()


# -- load -----------------------------------------------------------------------------------------
async def wechat_user(url: str, aes: str, i: int, n: int, lat: list[float], errors: list[str]) -> None:
    from tests.fakes.wechat_client import WeChatSender, message_xml
    sender = WeChatSender(url, TOKEN, aes, APPID, client=httpx.Client())   # for signing/encryption only
    openid = f"oBENCH{i:04d}xxxxxxxxxxxxxxxxxx"
    async with httpx.AsyncClient(timeout=30) as c:
        for k in range(n):
            if k == 0:
                xml = message_xml(openid, "event", Event="subscribe", create_time=int(time.time()) + i)
            else:
                xml = message_xml(openid, "text", Content=MIX[(i + k) % len(MIX)])
            q = sender.params(openid)
            enc = xmltodict.parse(sender.crypto.encrypt_message(xml, q["nonce"], q["timestamp"]))["xml"]
            q.update(encrypt_type="aes", msg_signature=enc["MsgSignature"])
            body = f"<xml><Encrypt><![CDATA[{enc['Encrypt']}]]></Encrypt></xml>".encode()
            t = time.perf_counter()
            r = await c.post(sender.url, params=q, content=body)
            lat.append(time.perf_counter() - t)
            if r.status_code != 200:
                errors.append(str(r.status_code))
            elif r.text != "success":
                sender.reply_text(r, q)      # decrypt and check the reply's signature
    sender.http.close()


async def telegram_user(url: str, i: int, n: int, lat: list[float], errors: list[str]) -> None:
    from tests.fakes.telegram_client import callback_update, message_update
    chat = 100000 + i
    async with httpx.AsyncClient(timeout=60) as c:
        for k in range(n):
            if k == 0:
                upd = message_update(chat, "/start")
            elif k == 1:
                upd = callback_update(chat, "consent_yes")
            else:
                upd = message_update(chat, MIX[(i + k) % len(MIX)])
            t = time.perf_counter()
            r = await c.post(url + "/telegram/webhook", json=upd, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
            lat.append(time.perf_counter() - t)
            if r.status_code != 200:
                errors.append(str(r.status_code))


def run(channel: str, users: int, messages: int, rate_limit: bool = True) -> dict:
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=serve, args=(channel, rate_limit, child), daemon=True)
    proc.start()
    info = parent.recv()
    lat: list[float] = []
    errors: list[str] = []

    async def go():
        if channel == "wechat":
            await asyncio.gather(*(wechat_user(info["url"], info["aes"], i, messages, lat, errors) for i in range(users)))
        else:
            await asyncio.gather(*(telegram_user(info["url"], i, messages, lat, errors) for i in range(users)))
    started = time.perf_counter()
    asyncio.run(go())
    elapsed = time.perf_counter() - started
    parent.send("done")
    sent = parent.recv()["sent"]
    proc.join(timeout=20)
    return {"n": len(lat), "rate": len(lat) / elapsed, "p50": pct(lat, .50) * 1000, "p99": pct(lat, .99) * 1000,
            "errors": len(errors), "api_msgs": sent, "elapsed": elapsed}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--messages", type=int, default=20)
    args = ap.parse_args()
    rows = [("wechat (safe mode, passive replies)", run("wechat", args.users, args.messages)),
            ("telegram (webhook, AIORateLimiter on)", run("telegram", args.users, args.messages, True)),
            ("telegram (webhook, rate limiter off)", run("telegram", args.users, args.messages, False))]
    print(f"\n{args.users} concurrent users × {args.messages} messages, one uvicorn worker, embedded Redis, "
          f"no Rasa, loopback fake platform APIs ({os.cpu_count()} cores)")
    print(f"{'channel':40} {'msgs':>5} {'msg/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'API sends':>9}")
    for name, r in rows:
        print(f"{name:40} {r['n']:5d} {r['rate']:7.1f} {r['p50']:7.1f} {r['p99']:7.1f} {r['errors']:6d} "
              f"{r['api_msgs']:9d}")


if __name__ == "__main__":
    main()
