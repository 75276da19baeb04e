"""Web chat throughput and latency at 50 concurrent users, with and without Rasa in the path.

Real components: the ASGI app on a loopback port (uvicorn, one worker), the embedded Redis,
the real Rasa server. Each user has its own cookie and sends a mix of free text (which goes
to NLU), menu digits and a crisis message now and then.

    .venv/bin/python bench/bench_webchat.py [--users 50] [--messages 20] [--no-rasa]
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stats import pct  # noqa: E402

from core.embedded_redis import EmbeddedRedis  # noqa: E402
from tests.live import LiveServer, make_settings  # noqa: E402

MIX = ["最近压力很大，睡不着", "有没有心理热线", "我想找人聊聊", "2", "菜单", "今天天气怎么样",
       "老板天天骂人，好烦", "谢谢", "1", "我想自杀"]



async def user(base: str, n: int, i: int, latencies: list[float], errors: list[int]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        for k in range(n):
            text = MIX[(i + k) % len(MIX)]
            t = time.perf_counter()
            r = await c.post("/chat/api/send", json={"text": text})
            latencies.append((time.perf_counter() - t) * 1000)
            if r.status_code != 200:
                errors.append(r.status_code)


async def load(base: str, users: int, messages: int) -> dict:
    latencies: list[float] = []
    errors: list[int] = []
    t = time.perf_counter()
    await asyncio.gather(*(user(base, messages, i, latencies, errors) for i in range(users)))
    wall = time.perf_counter() - t
    return {"msgs": len(latencies), "wall_s": wall, "rate": len(latencies) / wall, "p50": pct(latencies, .50),
            "p99": pct(latencies, .99), "mean": statistics.mean(latencies), "errors": len(errors)}


def run_case(label: str, rasa_url: str | None, redis_url: str, users: int, messages: int) -> dict:
    with tempfile.TemporaryDirectory() as d, LiveServer(make_settings(Path(d)), redis_url, rasa_url) as live:
        asyncio.run(load(live.url, 5, 4))  # warm-up
        res = asyncio.run(load(live.url, users, messages))
    print(f"{label:<14} {res['msgs']:>5} msgs  {res['rate']:7.1f} msg/s  p50 {res['p50']:6.1f} ms  "
          f"p99 {res['p99']:6.1f} ms  errors {res['errors']}")
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--messages", type=int, default=20)
    ap.add_argument("--no-rasa", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        redis = EmbeddedRedis(Path(d) / "redis").start()
        print(f"web chat, {args.users} concurrent users x {args.messages} messages, one uvicorn worker, 2 cores")
        without = run_case("without Rasa", None, redis.url, args.users, args.messages)
        if not args.no_rasa:
            from nlu import rasa_project
            with rasa_project.serving() as url:
                with_rasa = run_case("with Rasa", url, redis.url, args.users, args.messages)
            print(f"ratio with/without Rasa: throughput {with_rasa['rate'] / without['rate']:.2f}x, "
                  f"p50 {with_rasa['p50'] / without['p50']:.2f}x, p99 {with_rasa['p99'] / without['p99']:.2f}x")
        redis.stop()


if __name__ == "__main__":
    main()
