"""Time to page with 100 simultaneous crises.

Starts the embedded Redis, the real router (crisis assessment → case) and two escalation
workers (as two app copies would run), with the console channel and a local fake
企业微信群机器人 webhook. 100 employees send a crisis message at the same moment; for each
case it reports created → paged (the case's own timestamps) and message-in → paged.

    .venv/bin/python bench/bench_paging.py [--n 100] [--workers 2]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.messages import Inbound  # noqa: E402
from bot.runtime import build_runtime  # noqa: E402
from bot.settings import Settings  # noqa: E402
from core import keys  # noqa: E402
from core.embedded_redis import EmbeddedRedis  # noqa: E402
from core.seal import Sealer  # noqa: E402
from escalation.service import build_escalation  # noqa: E402
from tests.escalation_kit import FakeWeCom  # noqa: E402

ORGS = ["city", "dongcheng", "dongcheng_hospital", "dongcheng_street", "haidian", "haidian_tech", "yanqing",
        "yanqing_power"]


def pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))]


async def run(n: int, workers: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="xinyi-bench-"))
    server = EmbeddedRedis(tmp / "redis").start()
    with FakeWeCom() as wecom:
        settings = Settings(_env_file=None, id_secret=secrets.token_urlsafe(16), data_key=Sealer.new_key(),
                            console_secret=secrets.token_urlsafe(16), data_dir=tmp, redis_url=None, rasa_url=None)
        runtime = build_runtime(settings, server.url, None)
        stop = asyncio.Event()
        escs = [build_escalation(runtime.redis, runtime.cases, runtime.orgs, roster_file=settings.roster_file,
                                 sealer=runtime.sealer, transcript=runtime.transcript, wecom_webhook=wecom.url,
                                 consumer=f"bench-{i}") for i in range(workers)]
        loops = [asyncio.create_task(e.run_forever(stop, block_ms=100)) for e in escs]
        await asyncio.sleep(0.3)  # groups created, workers blocked on the stream

        sent_at: dict[str, float] = {}

        async def crisis(i: int) -> None:
            user = f"bench-{i:03d}"
            sent_at[user] = time.time()
            await runtime.router.handle(Inbound(channel="web", user=user, text="我今晚就从楼顶跳下去",
                                                org=ORGS[i % len(ORGS)]))

        t0 = time.perf_counter()
        await asyncio.gather(*(crisis(i) for i in range(n)))
        replied = time.perf_counter() - t0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ids = await runtime.redis.zrange(keys.OPEN_CASES, 0, -1)
            cases = [await runtime.cases.get(i.decode()) for i in ids]
            if len(cases) == n and all(c.paged_at for c in cases):
                break
            await asyncio.sleep(0.05)
        total = time.perf_counter() - t0
        stop.set()
        for t in loops:
            t.cancel()
        await asyncio.gather(*loops, return_exceptions=True)

        created_to_paged = [c.paged_at - c.created_at for c in cases if c.paged_at]
        msg_to_paged = [c.paged_at - sent_at[c.user] for c in cases if c.paged_at]
        wecom_n = len(wecom.received)
        console_n = await runtime.redis.xlen(keys.PAGES)
        await runtime.close()
    server.stop()

    print(f"bench_paging: {n} simultaneous crises, {workers} escalation workers, channels: console + wecom (fake), "
          f"{os.cpu_count()} cpu")
    print(f"  cases paged:            {len(created_to_paged)}/{n} (console pages {console_n}, wecom posts {wecom_n})")
    print(f"  all safety replies in:  {replied * 1000:.0f} ms; all paged in {total * 1000:.0f} ms")
    for name, v in (("created → paged", created_to_paged), ("message → paged", msg_to_paged)):
        print(f"  {name:16s} p50 {pct(v, .5) * 1000:7.1f} ms   p99 {pct(v, .99) * 1000:7.1f} ms   "
              f"max {max(v) * 1000:7.1f} ms   mean {statistics.mean(v) * 1000:7.1f} ms")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    asyncio.run(run(args.n, args.workers))
