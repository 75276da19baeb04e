import pytest

from core import keys
from escalation.cases import CaseStore, TransitionRefused
from nlu.risk import Risk


async def test_queue_is_ordered_by_risk_then_age(aredis):
    cases = CaseStore(aredis)
    a = await cases.open_or_join("u1", "web", "city", Risk.high, "self", [], now=100.0)
    b = await cases.open_or_join("u2", "web", "city", Risk.imminent, "self", [], now=200.0)
    c = await cases.open_or_join("u3", "web", "city", Risk.high, "self", [], now=50.0)
    d = await cases.open_or_join("u4", "web", "city", Risk.medium, "self", [], now=10.0)
    assert [x.id for x in await cases.queue()] == [b.case_id, c.case_id, a.case_id, d.case_id]


async def test_one_open_case_per_user_and_raising_reorders(aredis):
    cases = CaseStore(aredis)
    first = await cases.open_or_join("u1", "web", "city", Risk.high, "self", ["intent:自杀"], now=100.0)
    other = await cases.open_or_join("u2", "web", "city", Risk.high, "self", [], now=50.0)
    again = await cases.open_or_join("u1", "web", "city", Risk.high, "self", [], now=110.0)
    assert first.created and not again.created and again.case_id == first.case_id and not again.raised
    raised = await cases.open_or_join("u1", "web", "city", Risk.imminent, "self", ["time:今晚"], now=120.0)
    assert raised.raised
    assert [x.id for x in await cases.queue()] == [first.case_id, other.case_id]
    lower = await cases.open_or_join("u1", "web", "city", Risk.low, "none", [], now=130.0)
    assert not lower.raised and (await cases.get(first.case_id)).risk == Risk.imminent
    assert (await cases.get(first.case_id)).messages == 4


async def test_lifecycle_records_who_and_when_and_refuses_bad_moves(aredis):
    cases = CaseStore(aredis)
    opened = await cases.open_or_join("u1", "web", "city", Risk.high, "self", [], now=100.0)
    assert await cases.mark_paged(opened.case_id, 101.0)
    assert not await cases.mark_paged(opened.case_id, 102.0)  # a duplicate page is suppressed
    await cases.claim(opened.case_id, "li", 103.0)
    with pytest.raises(TransitionRefused):
        await cases.claim(opened.case_id, "wang", 104.0)
    with pytest.raises(ValueError):
        await cases.close(opened.case_id, "li", "whatever", 105.0)
    await cases.close(opened.case_id, "li", "referred", 106.0)
    case = await cases.get(opened.case_id)
    assert (case.status, case.claimed_by, case.disposition, case.closed_at) == ("closed", "li", "referred", 106.0)
    history = await cases.history(opened.case_id)
    assert [(h["event"], h["actor"]) for h in history] == [
        ("created", "bot"), ("paged", "pager"), ("claimed", "li"), ("closed", "li")]
    assert await cases.queue() == []
    assert await aredis.get(keys.open_case_of("u1")) is None
    new = await cases.open_or_join("u1", "web", "city", Risk.high, "self", [], now=200.0)
    assert new.created and new.case_id != opened.case_id


async def test_cases_survive_a_redis_restart_with_aof(tmp_path):
    from redis.asyncio import Redis

    from core.embedded_redis import EmbeddedRedis
    server = EmbeddedRedis(tmp_path / "r").start()
    r = Redis.from_url(server.url)
    opened = await CaseStore(r).open_or_join("u1", "web", "city", Risk.imminent, "self", [], now=1.0)
    await r.aclose()
    server.stop()  # SIGTERM: redis flushes the AOF on shutdown
    server = EmbeddedRedis(tmp_path / "r").start()
    r = Redis.from_url(server.url)
    case = await CaseStore(r).get(opened.case_id)
    assert case is not None and case.risk == Risk.imminent
    assert [c.id for c in await CaseStore(r).queue()] == [opened.case_id]
    await r.aclose()
    server.stop()
