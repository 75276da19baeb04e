"""The push dispatcher on the real Redis: consumer group per channel, XAUTOCLAIM of a dead
worker's entries, idempotent delivery, retries, and failures recorded on the case."""
import time

import pytest

from bot.outbox import Delivery, OutboxDispatcher
from core import keys
from core.seal import Sealer
from escalation.cases import CaseStore
from escalation.relay import Relay
from escalation.transcript import Transcript
from nlu.risk import Risk


class Pusher:
    def __init__(self, channel="wechat", results=None):
        self.channel = channel
        self.results = list(results or [])
        self.delivered: list[tuple[str, str, str]] = []

    async def deliver(self, user, text, case_id):
        result = self.results.pop(0) if self.results else Delivery.ok()
        if result.status == "delivered":
            self.delivered.append((user, text, case_id))
        return result


@pytest.fixture
def parts(aredis):
    sealer = Sealer(Sealer.new_key())
    return sealer, CaseStore(aredis), Relay(aredis, Transcript(aredis, sealer), sealer)


def dispatcher(aredis, parts, pusher, consumer="w1", **kw):
    sealer, cases, _ = parts
    return OutboxDispatcher(aredis, sealer, cases, pusher, consumer, retry_s=kw.pop("retry_s", 0.05), **kw)


async def new_case(cases, user="we-u1", channel="wechat"):
    return (await cases.open_or_join(user, channel, "city", Risk.high, "self", [], time.time())).case_id


async def test_delivers_each_channel_its_own_entries_in_order(aredis, parts):
    _, cases, relay = parts
    wechat, telegram = Pusher("wechat"), Pusher("telegram")
    await relay.to_user("we-u1", "wechat", "一", time.time(), "c1")
    await relay.to_user("te-u2", "telegram", "二", time.time(), "c2")
    await relay.to_user("we-u1", "wechat", "三", time.time(), "c1")
    await relay.to_user("web-u3", "web", "四", time.time(), "c3")
    assert await dispatcher(aredis, parts, wechat).run_once(block_ms=10) == 4
    assert await dispatcher(aredis, parts, telegram).run_once(block_ms=10) == 4
    assert [t for _, t, _ in wechat.delivered] == ["一", "三"]
    assert [t for _, t, _ in telegram.delivered] == ["二"]
    for ch in ("wechat", "telegram"):
        assert (await aredis.xpending(keys.OUTBOX, keys.outbox_group(ch)))["pending"] == 0


async def test_a_dead_workers_entries_are_claimed_and_not_sent_twice(aredis, parts):
    _, cases, relay = parts
    await relay.to_user("we-u1", "wechat", "在吗", time.time(), "c1")
    await relay.to_user("we-u1", "wechat", "我在这里", time.time(), "c1")
    # worker 1 reads both and dies before acknowledging (its delivery of the first did happen)
    await aredis.xgroup_create(keys.OUTBOX, keys.outbox_group("wechat"), id="0", mkstream=True)
    entries = await aredis.xreadgroup(keys.outbox_group("wechat"), "dead", {keys.OUTBOX: ">"}, count=10)
    first_id = entries[0][1][0][0].decode()
    await aredis.hset(keys.outbox_delivery("wechat", first_id), "done", "delivered")
    pusher = Pusher("wechat")
    d = dispatcher(aredis, parts, pusher, consumer="w2")
    await d.ensure_group()
    import asyncio
    await asyncio.sleep(0.1)                                   # idle longer than retry_s
    assert await d.run_once(block_ms=10) == 2
    assert [t for _, t, _ in pusher.delivered] == ["我在这里"]  # the first was already sent: not again
    assert (await aredis.xpending(keys.OUTBOX, keys.outbox_group("wechat")))["pending"] == 0


async def test_temporary_failures_are_retried_then_recorded_on_the_case(aredis, parts):
    import asyncio
    _, cases, relay = parts
    case_id = await new_case(cases)
    await relay.to_user("we-u1", "wechat", "你好", time.time(), case_id)
    pusher = Pusher("wechat", [Delivery.retry("network"), Delivery.ok()])
    d = dispatcher(aredis, parts, pusher)
    await d.run_once(block_ms=10)
    assert pusher.delivered == []
    await asyncio.sleep(0.1)
    await d.run_once(block_ms=10)
    assert [t for _, t, _ in pusher.delivered] == ["你好"]

    await relay.to_user("we-u1", "wechat", "还在吗", time.time(), case_id)
    pusher.results = [Delivery.retry("network")] * 3
    d.max_attempts = 3
    for _ in range(3):
        await d.run_once(block_ms=10)
        await asyncio.sleep(0.1)
    history = [h["event"] for h in await cases.history(case_id)]
    assert any("not_delivered: gave up after 3 attempts: network" in e for e in history)
    assert (await aredis.xpending(keys.OUTBOX, keys.outbox_group("wechat")))["pending"] == 0


async def test_undeliverable_is_recorded_at_once_and_later_messages_still_go(aredis, parts):
    _, cases, relay = parts
    case_id = await new_case(cases)
    await relay.to_user("we-u1", "wechat", "一", time.time(), case_id)
    await relay.to_user("we-u1", "wechat", "二", time.time(), case_id)
    pusher = Pusher("wechat", [Delivery.failed("48-hour customer-service window closed")])
    await dispatcher(aredis, parts, pusher).run_once(block_ms=10)
    history = await cases.history(case_id)
    assert [h for h in history if h["event"] == "not_delivered: 48-hour customer-service window closed"
            and h["actor"] == "wechat"]
    assert [t for _, t, _ in pusher.delivered] == ["二"]


async def test_a_later_message_waits_behind_one_being_retried(aredis, parts):
    _, cases, relay = parts
    await relay.to_user("we-u1", "wechat", "一", time.time(), "c1")
    await relay.to_user("we-u1", "wechat", "二", time.time(), "c1")
    pusher = Pusher("wechat", [Delivery.retry("429")])
    d = dispatcher(aredis, parts, pusher)
    await d.run_once(block_ms=10)
    assert pusher.delivered == []            # "二" did not overtake "一"
    import asyncio
    await asyncio.sleep(0.1)
    await d.run_once(block_ms=10)
    assert [t for _, t, _ in pusher.delivered] == ["一", "二"]


async def test_old_entries_are_not_pushed(aredis, parts):
    _, cases, relay = parts
    case_id = await new_case(cases)
    await relay.to_user("we-u1", "wechat", "很久以前", time.time() - 3 * 24 * 3600, case_id)
    pusher = Pusher("wechat")
    await dispatcher(aredis, parts, pusher).run_once(block_ms=10)
    assert pusher.delivered == []
    assert any("too old" in h["event"] for h in await cases.history(case_id))
