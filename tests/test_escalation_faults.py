"""Faults: a paging worker killed with SIGKILL mid-way (a real subprocess), Redis killed and restarted."""
import asyncio
import os
import signal
import subprocess
import sys
import time

import redis as sync_redis
from redis.exceptions import ConnectionError
from redis.asyncio import Redis

from core import keys
from core.clock import FakeClock
from core.embedded_redis import EmbeddedRedis
from escalation.cases import CaseStore
from escalation.orgs import Orgs
from escalation.service import build_escalation
from nlu.risk import Risk
from tests.escalation_kit import ORGS_FILE, ROSTER_FILE, FakeWeCom, Recorder, at

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# A paging worker process: a "fast" channel that records at once and a "slow" one that
# first sleeps `pause` seconds (the window in which the test kills the process).
WORKER = r"""
import asyncio, sys
from redis.asyncio import Redis
from escalation.cases import CaseStore
from escalation.orgs import Orgs
from escalation.service import build_escalation

url, consumer, pause_fast, pause_slow = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])

class Channel:
    def __init__(self, name, pause, r):
        self.name, self.pause, self.r = name, pause, r
    async def notify(self, page):
        await asyncio.sleep(self.pause)
        await self.r.rpush("test:delivered:" + self.name, page.case_id)

async def main():
    r = Redis.from_url(url)
    esc = build_escalation(r, CaseStore(r), Orgs.load(sys.argv[5]), roster_file=sys.argv[6],
                           notifiers=[Channel("fast", pause_fast, r), Channel("slow", pause_slow, r)],
                           consumer=consumer, claim_idle_ms=300)
    print("ready", flush=True)
    while True:
        await esc.run_once(block_ms=100)

asyncio.run(main())
"""


def start_worker(url, consumer, pause_fast=0.0, pause_slow=0.0):
    proc = subprocess.Popen([sys.executable, "-c", WORKER, url, consumer, str(pause_fast), str(pause_slow),
                             str(ORGS_FILE), str(ROSTER_FILE)], cwd=ROOT, stdout=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": ROOT})
    assert proc.stdout.readline().strip() == b"ready"
    return proc


def wait_for(pred, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if pred():
                return True
        except sync_redis.ResponseError:  # e.g. the worker has not created its group yet
            pass
        time.sleep(0.05)
    return False


def open_case(url, user="u1"):
    async def go():
        r = Redis.from_url(url)
        opened = await CaseStore(r).open_or_join(user, "web", "dongcheng_hospital", Risk.imminent, "self", [],
                                                 time.time())
        await r.aclose()
        return opened.case_id
    return asyncio.run(go())


def delivered(r, name):
    return [x.decode() for x in r.lrange(f"test:delivered:{name}", 0, -1)]


def test_sigkill_between_case_creation_and_paging_pages_exactly_once(clean_redis):
    r = sync_redis.Redis.from_url(clean_redis)
    dead = start_worker(clean_redis, "doomed", pause_fast=30, pause_slow=30)
    try:
        cid = open_case(clean_redis)
        assert wait_for(lambda: r.xpending(keys.CASE_EVENTS, "pager")["pending"] == 1)  # read, not acked
        os.kill(dead.pid, signal.SIGKILL)
        dead.wait(5)
        assert r.hget(keys.case(cid), "status") == b"open" and delivered(r, "fast") == []
        alive = start_worker(clean_redis, "survivor")
        try:
            assert wait_for(lambda: r.hget(keys.case(cid), "status") == b"paged")
            time.sleep(1.0)  # more loops: nothing more may be sent
        finally:
            alive.kill()
            alive.wait(5)
        assert delivered(r, "fast") == [cid] and delivered(r, "slow") == [cid]
        assert r.xpending(keys.CASE_EVENTS, "pager")["pending"] == 0
        assert [e[1][b"event"] for e in r.xrange(keys.case_history(cid))].count(b"paged") == 1
    finally:
        if dead.poll() is None:
            dead.kill()
        r.close()


def test_sigkill_after_one_channel_delivered_sends_no_duplicate(clean_redis):
    r = sync_redis.Redis.from_url(clean_redis)
    dead = start_worker(clean_redis, "doomed", pause_fast=0, pause_slow=30)
    try:
        cid = open_case(clean_redis)
        assert wait_for(lambda: delivered(r, "fast") == [cid])   # fast delivered, slow still sleeping
        os.kill(dead.pid, signal.SIGKILL)
        dead.wait(5)
        alive = start_worker(clean_redis, "survivor")
        try:
            assert wait_for(lambda: r.hget(keys.case(cid), "status") == b"paged")
            time.sleep(1.0)
        finally:
            alive.kill()
            alive.wait(5)
        assert delivered(r, "fast") == [cid], "the channel that had delivered must not page again"
        assert delivered(r, "slow") == [cid]
    finally:
        if dead.poll() is None:
            dead.kill()
        r.close()


async def test_redis_killed_and_restarted_with_aof_loses_no_case_timer_or_task(tmp_path):
    server = EmbeddedRedis(tmp_path / "r").start()
    clock = FakeClock(at("2026-03-02 18:00"))  # after service hours: the callback task waits for the morning
    rec = Recorder()
    r = Redis.from_url(server.url)
    cases = CaseStore(r)
    esc = build_escalation(r, cases, Orgs.load(ORGS_FILE), roster_file=ROSTER_FILE, clock=clock,
                           notifiers=[rec], consumer="w", claim_idle_ms=0)
    paged = (await cases.open_or_join("u1", "web", "dongcheng_hospital", Risk.high, "self", [], clock.now())).case_id
    await esc.run_once(block_ms=0)
    medium = (await cases.open_or_join("u2", "web", "dongcheng", Risk.medium, "self", [], clock.now())).case_id
    await esc.run_once(block_ms=0)
    unpaged = (await cases.open_or_join("u3", "web", "city", Risk.imminent, "self", [], clock.now())).case_id
    await asyncio.sleep(1.5)  # appendfsync everysec
    server.stop(kill=True)    # SIGKILL: no clean shutdown
    server = EmbeddedRedis(tmp_path / "r").start()
    try:
        for _ in range(3):  # the app's loop retries a dropped connection the same way
            try:
                await r.ping()
                break
            except ConnectionError:
                await asyncio.sleep(0.1)
        # the same client reconnects; everything is still there
        assert {c.id for c in await cases.queue()} == {paged, medium, unpaged}
        assert (await cases.get(paged)).status == "paged"
        assert await r.zscore(keys.SLA_DUE, paged) is not None
        assert [f.case_id for f in await esc.followups.upcoming()] == [medium]
        await esc.run_once(block_ms=0)     # the unpaged case's event survived in the stream
        assert (await cases.get(unpaged)).status == "paged" and len(rec.of(unpaged)) == 1
        clock.advance(181)
        await esc.run_once(block_ms=0)     # and the SLA timer still fires
        assert [p.tier for p in rec.of(paged)] == ["on_duty", "repeat"]
    finally:
        await r.aclose()
        server.stop()


async def test_wecom_down_while_the_console_pages(aredis):
    """The fake returns 500: the console channel still pages at once; WeCom gets it on retry."""
    clock = FakeClock(at("2026-03-02 10:00"))
    with FakeWeCom(mode="500") as wecom:
        esc = build_escalation(aredis, CaseStore(aredis), Orgs.load(ORGS_FILE), roster_file=ROSTER_FILE,
                               clock=clock, wecom_webhook=wecom.url, consumer="w", claim_idle_ms=0)
        cid = (await esc.cases.open_or_join("u1", "web", "city", Risk.imminent, "self", [], clock.now())).case_id
        await esc.run_once(block_ms=0)
        assert await aredis.xlen(keys.PAGES) == 1 and wecom.received == []
        wecom.mode = "ok"
        clock.advance(6)
        await esc.run_once(block_ms=0)
        assert len(wecom.received) == 1 and cid in wecom.contents()[0]
