"""Time to page with 100 simultaneous crises.

Starts the embedded Redis and two escalation workers (as two app copies would run), with
the console channel and a local fake 企业微信群机器人 webhook, on the real roster. 100
crises across the organisations are opened at the same moment (CaseStore.open_or_join, what
the router calls after crisis assessment); for each case it reports created → paged (the
case's own timestamps) and the wall time until every case was paged.

    .venv/bin/python bench/bench_paging.py [--n 100] [--workers 2]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stats import pct  # noqa: E402

from redis.asyncio import Redis  # noqa: E402

from core import keys  # noqa: E402
from core.embedded_redis import EmbeddedRedis  # noqa: E402
from escalation.cases import CaseStore  # noqa: E402
from escalation.orgs import Orgs  # noqa: E402
from escalation.service import build_escalation  # noqa: E402
from nlu.risk import Risk  # noqa: E402
from tests.escalation_kit import FakeWeCom  # noqa: E402

ORGS = ["city", "dongcheng", "dongcheng_hospital", "dongcheng_street", "haidian", "haidian_tech", "yanqing",
        "yanqing_power"]



async def run(n: int, workers: int) -> None:
    root = Path(__file__).resolve().parent.parent
    tmp = Path(tempfile.mkdtemp(prefix="xinyi-bench-"))
    server = EmbeddedRedis(tmp / "redis").start()
    try:
        with FakeWeCom() as wecom:
            redis = Redis.from_url(server.url, max_connections=200)
            cases = CaseStore(redis)
            orgs = Orgs.load(root / "config" / "organisations.yaml")
            stop = asyncio.Event()
            escs = [build_escalation(redis, cases, orgs, roster_file=root / "config" / "roster.yaml",
                                     wecom_webhook=wecom.url, consumer=f"bench-{i}") for i in range(workers)]
            loops = [asyncio.create_task(e.run_forever(stop, block_ms=100)) for e in escs]
            await asyncio.sleep(0.3)  # groups created, workers blocked on the stream

            async def crisis(i: int) -> str:
                opened = await cases.open_or_join(f"bench-{i:03d}", "web", ORGS[i % len(ORGS)], Risk.imminent,
                                                  "self", ["plan"], time.time())
                return opened.case_id

            t0 = time.perf_counter()
            ids = await asyncio.gather(*(crisis(i) for i in range(n)))
            opened = time.perf_counter() - t0
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                paged = await asyncio.gather(*(redis.hget(keys.case(c), "paged_at") for c in ids))
                if all(paged):
                    break
                await asyncio.sleep(0.02)
            total = time.perf_counter() - t0
            stop.set()
            for t in loops:
                t.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            got = [await cases.get(c) for c in ids]
            created_to_paged = [c.paged_at - c.created_at for c in got if c.paged_at]
            wecom_n = len(wecom.received)
            console_n = await redis.xlen(keys.PAGES)
            failures = await redis.xlen(keys.PAGING_FAILURES)
            await redis.aclose()
    finally:
        server.stop()

    print(f"bench_paging: {n} simultaneous crises, {workers} escalation workers, channels: console + wecom (fake), "
          f"{os.cpu_count()} cpu")
    print(f"  cases paged:      {len(created_to_paged)}/{n} (console pages {console_n}, wecom posts {wecom_n}, "
          f"paging failures {failures})")
    print(f"  all opened in {opened * 1000:.0f} ms; all paged in {total * 1000:.0f} ms")
    v = created_to_paged
    print(f"  created → paged  p50 {pct(v, .5) * 1000:7.1f} ms   p99 {pct(v, .99) * 1000:7.1f} ms   "
          f"max {max(v) * 1000:7.1f} ms   mean {statistics.mean(v) * 1000:7.1f} ms")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    asyncio.run(run(args.n, args.workers))
