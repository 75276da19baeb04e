"""The whole crisis path under load: N employees write a crisis message at the same moment.

Real components: the web app on loopback (one uvicorn worker), the embedded Redis, the
escalation loop running inside the app. Reports the safety-reply latency (HTTP round trip)
and time-to-page (case created → paged), and fails loudly if any case is not paged.

    .venv/bin/python bench/bench_crisis_path.py [--n 100]
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import httpx
import redis as sync_redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stats import pct  # noqa: E402

from core import keys  # noqa: E402
from core.embedded_redis import EmbeddedRedis  # noqa: E402
from tests.live import LiveServer, make_settings  # noqa: E402



async def employee(base: str, latencies: list[float]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        await c.post("/chat/api/send", json={"text": "你好"})
        t = time.perf_counter()
        r = await c.post("/chat/api/send", json={"text": "我不想活了，今晚就从楼顶跳下去"})
        latencies.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200 and r.json()["replies"][0]["kind"] == "safety", r.text


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        server = EmbeddedRedis(Path(d) / "redis").start()
        try:
            with LiveServer(make_settings(Path(d)), server.url, None) as live:
                latencies: list[float] = []
                t0 = time.perf_counter()

                async def everyone():
                    await asyncio.gather(*(employee(live.url, latencies) for _ in range(args.n)))
                asyncio.run(everyone())
                r = sync_redis.Redis.from_url(server.url)
                deadline = time.monotonic() + 30
                while True:
                    ids = [i.decode() for i in r.zrange(keys.OPEN_CASES, 0, -1)]
                    paged = [r.hget(keys.case(i), "paged_at") for i in ids]
                    if len(ids) == args.n and all(paged) or time.monotonic() > deadline:
                        break
                    time.sleep(0.05)
                wall = time.perf_counter() - t0
                ttp = [(float(p) - float(r.hget(keys.case(i), "created_at"))) * 1000 for i, p in zip(ids, paged) if p]
                r.close()
        finally:
            server.stop()
    print(f"{args.n} simultaneous crises through the web chat, router and escalation loop (one worker, 2 cores)")
    print(f"  safety reply  p50 {pct(latencies, .5):7.1f} ms  p99 {pct(latencies, .99):7.1f} ms  "
          f"max {max(latencies):7.1f} ms")
    print(f"  time to page  p50 {pct(ttp, .5):7.1f} ms  p99 {pct(ttp, .99):7.1f} ms  max {max(ttp):7.1f} ms")
    print(f"  cases {len(ids)}/{args.n}, paged {len(ttp)}/{args.n}, all done in {wall:.2f} s")
    if len(ids) != args.n or len(ttp) != args.n:
        raise SystemExit("NOT EVERY CRISIS WAS PAGED")


if __name__ == "__main__":
    main()
