"""What the router adds on top of Rasa: in-process Router.handle per message, real Redis,
with no NLU, and with the real Rasa server, beside Rasa's own parse time.

    .venv/bin/python bench/bench_router.py [--n 400]
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stats import pct  # noqa: E402

from redis.asyncio import Redis  # noqa: E402

from core.embedded_redis import EmbeddedRedis  # noqa: E402
from nlu import rasa_project  # noqa: E402
from nlu.rasa_client import RasaClient  # noqa: E402
from tests.routing_kit import Conversation, make_router  # noqa: E402

FREE_TEXT = ["最近压力很大，睡不着", "有没有心理热线", "我想找人聊聊", "今天天气怎么样", "老板天天骂人，好烦",
             "想预约一次心理咨询", "我的数据会被谁看到", "想做个焦虑测评", "谢谢你", "中午吃什么好"]



async def measure(redis_url: str, parser, n: int) -> list[float]:
    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    router = make_router(redis, parser=parser)
    conv = Conversation(router, user="bench-user")
    await conv.say("你好")
    await conv.say("1")
    out = []
    for i in range(n):
        t = time.perf_counter()
        await conv.say(FREE_TEXT[i % len(FREE_TEXT)])
        out.append((time.perf_counter() - t) * 1e3)
        await conv.say("菜单")  # back to a neutral state so every sample takes the NLU path
    await redis.aclose()
    return out


async def parse_only(client: RasaClient, n: int) -> list[float]:
    out = []
    for i in range(n):
        t = time.perf_counter()
        await client.parse(FREE_TEXT[i % len(FREE_TEXT)])
        out.append((time.perf_counter() - t) * 1e3)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=400)
    n = ap.parse_args().n
    with tempfile.TemporaryDirectory() as d:
        redis = EmbeddedRedis(Path(d) / "redis").start()
        try:
            with rasa_project.serving() as url:
                without = asyncio.run(measure(redis.url, None, n))
                with_rasa = asyncio.run(measure(redis.url, RasaClient(url, timeout_s=2.0), n))
                parse = asyncio.run(parse_only(RasaClient(url, timeout_s=2.0), n))
        finally:
            redis.stop()
    print(f"router, in process, real Redis, {n} free-text messages (sequential)")
    for label, v in (("no NLU (keywords)", without), ("with Rasa", with_rasa), ("Rasa parse alone", parse)):
        print(f"  {label:<18} p50 {pct(v, .5):6.2f} ms  p99 {pct(v, .99):6.2f} ms")
    print(f"  router adds on top of Rasa: p50 {pct(with_rasa, .5) - pct(parse, .5):.2f} ms "
          f"(router alone without NLU: {pct(without, .5):.2f} ms)")


if __name__ == "__main__":
    main()
