"""Rasa NLU parse latency (p50/p99) and throughput at 1/4/16 concurrent clients.

    .venv/bin/python bench/bench_rasa.py [--url http://127.0.0.1:5005] [--seconds 8]

Without --url (or RASA_URL) it builds/trains as needed and starts a server itself.
Messages come from the held-out set, cycled; every client waits for its answer
before sending the next (closed loop), through nlu.rasa_client.RasaClient.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stats import pct  # noqa: E402

from nlu import intent_eval  # noqa: E402
from nlu.cli import HELDOUT_SET, running_server  # noqa: E402
from nlu.rasa_client import RasaClient  # noqa: E402



async def run(url: str, clients: int, seconds: float, texts: list[str]) -> dict:
    client = RasaClient(url, timeout_s=10.0, backoff_s=0.0)
    lat: list[float] = []
    fails = 0
    stop = time.monotonic() + seconds

    async def worker(k: int) -> None:
        nonlocal fails
        i = k
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            r = await client.parse(texts[i % len(texts)])
            dt = time.perf_counter() - t0
            if r is None:
                fails += 1
            else:
                lat.append(dt)
            i += clients

    for t in texts[:20]:  # warm-up (connections, TF graph)
        await client.parse(t)
    t0 = time.monotonic()
    await asyncio.gather(*(worker(k) for k in range(clients)))
    wall = time.monotonic() - t0
    await client.aclose()
    return {"clients": clients, "n": len(lat), "fails": fails,
            "p50_ms": 1000 * statistics.median(lat), "p99_ms": 1000 * pct(lat, 0.99),
            "rps": len(lat) / wall}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default=os.environ.get("RASA_URL"))
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--clients", default="1,4,16")
    args = ap.parse_args()
    texts = [e.text for e in intent_eval.load_examples(HELDOUT_SET)]
    with running_server(args.url) as url:
        print(f"Rasa parse benchmark against {url}, {args.seconds:.0f} s per level, "
              f"{len(texts)} distinct messages")
        print(f"{'clients':>8}{'parses':>8}{'fails':>7}{'p50 ms':>9}{'p99 ms':>9}{'parses/s':>10}")
        for c in (int(x) for x in args.clients.split(",")):
            r = asyncio.run(run(url, c, args.seconds, texts))
            print(f"{r['clients']:>8}{r['n']:>8}{r['fails']:>7}{r['p50_ms']:>9.1f}"
                  f"{r['p99_ms']:>9.1f}{r['rps']:>10.1f}")


if __name__ == "__main__":
    main()
