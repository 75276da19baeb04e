"""Paging over the roster: privacy of pages, the WeCom robot, failures retried and visible,
duplicates suppressed, SLA re-escalation tiers, nobody on duty, raises, callbacks, follow-ups."""
import json

import pytest
from prometheus_client import generate_latest

from core import keys
from core.clock import FakeClock
from core.seal import Sealer
from escalation.cases import CaseStore
from escalation.followups import CHECK_IN_TEXTS
from escalation.orgs import Orgs
from escalation.service import build_escalation
from escalation.transcript import Transcript
from nlu.risk import Risk
from tests.escalation_kit import ORGS_FILE, ROSTER_FILE, FakeWeCom, Recorder, at

USER = "we-0123456789abcdef01234567"


def make(aredis, clock, notifiers=(), wecom=None, roster_file=ROSTER_FILE, sealer=None, **kw):
    sealer = sealer or Sealer(Sealer.new_key())
    cases = CaseStore(aredis)
    esc = build_escalation(aredis, cases, Orgs.load(ORGS_FILE), roster_file=roster_file, clock=clock,
                           sealer=sealer, transcript=Transcript(aredis, sealer), base_url="https://xinyi.example",
                           wecom_webhook=wecom, notifiers=list(notifiers), consumer="w1", claim_idle_ms=0, **kw)
    return esc, cases


async def drain(esc, rounds=3):
    for _ in range(rounds):
        await esc.run_once(block_ms=0)


async def open_case(cases, clock, org="dongcheng_hospital", risk=Risk.imminent, user=USER):
    return (await cases.open_or_join(user, "wechat", org, risk, "self", ["plan:今晚", "means:药"], clock.now())).case_id


async def test_a_page_carries_risk_org_and_link_only(aredis):
    clock = FakeClock(at("2026-03-02 10:00"))
    rec = Recorder()
    with FakeWeCom() as wecom:
        esc, cases = make(aredis, clock, [rec], wecom=wecom.url)
        cid = await open_case(cases, clock)
        await drain(esc)
        assert len(wecom.received) == 1 and wecom.received[0]["body"]["msgtype"] == "markdown"
        content = wecom.contents()[0]
    page = rec.of(cid)[0]
    assert page.tier == "on_duty" and page.targets == ("dch_duty",) and page.team == "dongcheng_hospital"
    assert page.link == f"https://xinyi.example/console/case/{cid}"
    for text in (page.text(), page.to_json(), content):
        assert ("紧急" in text or '"imminent"' in text) and "东城区第一医院工会" in text and cid in text
        assert USER not in text and "今晚" not in text and "药" not in text  # no user id, no signal text
    console = await aredis.xrange(keys.PAGES)
    assert len(console) == 1 and USER not in console[0][1][b"page"].decode()
    assert (await cases.get(cid)).status == "paged"


async def test_a_failing_channel_does_not_stop_the_others_and_is_retried_and_visible(aredis):
    clock = FakeClock(at("2026-03-02 10:00"))
    rec = Recorder()
    with FakeWeCom(mode="500") as wecom:
        esc, cases = make(aredis, clock, [rec], wecom=wecom.url)
        cid = await open_case(cases, clock)
        await drain(esc)
        assert len(rec.of(cid)) == 1 and (await cases.get(cid)).status == "paged"  # the others paged
        failures = await esc.dispatcher.recent_failures(0)
        assert [(f["channel"], f["case"], f["attempt"]) for f in failures] == [("wecom", cid, "1")]
        assert "HTTP 500" in failures[0]["reason"]
        assert await aredis.zcard(keys.PAGING_RETRY) == 1
        clock.advance(2)
        await drain(esc)
        assert await aredis.zcard(keys.PAGING_RETRY) == 1   # backoff: not yet
        clock.advance(5)
        await drain(esc)                                     # attempt 2 fails too
        assert [f["attempt"] for f in await esc.dispatcher.recent_failures(0)] == ["2", "1"]
        wecom.mode = "ok"
        clock.advance(16)
        await drain(esc)
        assert len(wecom.received) == 1 and cid in wecom.contents()[0]
        assert await aredis.zcard(keys.PAGING_RETRY) == 0
    metrics = generate_latest(esc.metrics.registry).decode()
    assert 'xinyi_paging_failures_total{channel="wecom"} 2.0' in metrics
    assert 'xinyi_pages_total{channel="wecom",tier="on_duty"} 1.0' in metrics


async def test_wecom_errcode_counts_as_failure_and_gives_up_after_the_last_retry(aredis):
    clock = FakeClock(at("2026-03-02 10:00"))
    with FakeWeCom(mode="errcode") as wecom:
        esc, cases = make(aredis, clock, wecom=wecom.url, retry_backoff_s=(1, 1))
        cid = await open_case(cases, clock)
        for _ in range(4):
            await drain(esc, 1)
            clock.advance(1.5)
        failures = await esc.dispatcher.recent_failures(0)
        assert [f["attempt"] for f in failures][:3] == ["3", "2", "1"] and failures[0]["next"] == "gave_up"
        assert "errcode 93000" in failures[0]["reason"] and await aredis.zcard(keys.PAGING_RETRY) == 0
    assert 'xinyi_paging_gave_up_total{channel="wecom"} 1.0' in generate_latest(esc.metrics.registry).decode()
    assert cid


async def test_duplicate_pages_are_suppressed(aredis):
    clock = FakeClock(at("2026-03-02 10:00"))
    rec = Recorder()
    esc, cases = make(aredis, clock, [rec])
    cid = await open_case(cases, clock)
    case = await cases.get(cid)
    await esc.escalator.first_page(case)
    await esc.escalator.first_page(case)  # e.g. an event re-read after a crash before the ack
    await drain(esc)
    assert len(rec.of(cid)) == 1
    pages = [h for h in await cases.history(cid) if h["event"] == "page"]
    assert len(pages) == 1
    assert 'xinyi_pages_suppressed_total{channel="recorder"} 2.0' in generate_latest(esc.metrics.registry).decode()


async def test_sla_re_escalation_tiers_until_claimed(aredis):
    clock = FakeClock(at("2026-03-02 10:00"))
    rec = Recorder()
    esc, cases = make(aredis, clock, [rec])
    cid = await open_case(cases, clock, risk=Risk.imminent)
    await drain(esc)
    seen = [(p.tier, p.targets) for p in rec.of(cid)]
    for _ in range(3):
        clock.advance(59)
        await drain(esc)
        assert len(rec.of(cid)) == len(seen)          # not before the SLA
        clock.advance(1.01)
        await drain(esc)
        seen = [(p.tier, p.targets) for p in rec.of(cid)]
    assert seen == [
        ("on_duty", ("dch_duty",)),
        ("repeat", ("dch_duty", "dch_backup")),
        ("supervisor", ("dc_sup", "dch_duty", "dch_backup")),
        ("chain", ("dc_sup", "city_sup", "dch_duty", "dch_backup")),
    ]
    await cases.claim(cid, "dch_duty", clock.now())
    clock.advance(600)
    await drain(esc)
    assert len(rec.of(cid)) == 4 and await aredis.zscore(keys.SLA_DUE, cid) is None
    rounds = [h.get("tier") for h in await cases.history(cid) if h["event"] == "page"]
    assert rounds == ["on_duty", "repeat", "supervisor", "chain"]


async def test_high_uses_its_own_sla_and_settings_override_it(aredis):
    clock = FakeClock(at("2026-03-02 10:00"))
    rec = Recorder()
    esc, cases = make(aredis, clock, [rec], sla_s={"high": 30})
    cid = await open_case(cases, clock, risk=Risk.high)
    await drain(esc)
    clock.advance(31)
    await drain(esc)
    assert [p.tier for p in rec.of(cid)] == ["on_duty", "repeat"]


async def test_raising_a_paged_case_pages_again_and_shortens_its_sla(aredis):
    clock = FakeClock(at("2026-03-02 10:00"))
    rec = Recorder()
    esc, cases = make(aredis, clock, [rec])
    cid = await open_case(cases, clock, risk=Risk.high)
    await drain(esc)
    assert await aredis.zscore(keys.SLA_DUE, cid) == pytest.approx(clock.now() + 180)
    clock.advance(10)
    await cases.open_or_join(USER, "wechat", "dongcheng_hospital", Risk.imminent, "self", [], clock.now())
    await drain(esc)
    assert [p.tier for p in rec.of(cid)] == ["on_duty", "raised"] and rec.of(cid)[1].risk == "imminent"
    assert await aredis.zscore(keys.SLA_DUE, cid) == pytest.approx(clock.now() + 60)


async def test_nobody_on_duty_pages_supervisors_keeps_the_case_on_top_and_pages_the_next_shift(aredis, tmp_path):
    roster = tmp_path / "roster.yaml"
    roster.write_text("""
teams:
  city:
    supervisors: [boss]
    shifts: [{name: day, days: workdays, start: "09:00", end: "17:00", on_duty: [a], backup: [b], supervisor: s1}]
""", encoding="utf-8")
    clock = FakeClock(at("2026-03-09 08:58"))  # Monday, before the first shift
    rec = Recorder()
    esc, cases = make(aredis, clock, [rec], roster_file=roster)
    low = await open_case(cases, clock, org="dongcheng", risk=Risk.medium, user="u-low")
    cid = await open_case(cases, clock, org="dongcheng_street", risk=Risk.high)
    await drain(esc)
    assert [(p.tier, p.targets) for p in rec.of(cid)] == [("no_duty", ("boss",))]
    assert [c.id for c in await cases.queue()][0] == cid
    clock.advance(180.5)   # SLA (09:00 shift start is earlier, so the shift page comes first)
    await drain(esc)
    assert [(p.tier, p.targets) for p in rec.of(cid)][1] == ("next_shift", ("a",))
    clock.advance(180.5)
    await drain(esc)
    assert [p.tier for p in rec.of(cid)] == ["no_duty", "next_shift", "repeat"]
    assert low


async def test_medium_gets_a_callback_task_for_the_next_service_hours(aredis):
    clock = FakeClock(at("2026-03-06 18:00"))  # Friday evening: the hospital union reopens Monday 09:00
    rec = Recorder()
    esc, cases = make(aredis, clock, [rec])
    cid = await open_case(cases, clock, risk=Risk.medium)
    await drain(esc)
    assert rec.pages == [] and (await cases.get(cid)).status == "open"
    [task] = await esc.followups.upcoming()
    assert (task.kind, task.case_id, task.due_at) == ("callback", cid, at("2026-03-09 09:00"))
    await esc.pager._handle(b"0-1", {b"type": b"created", b"case": cid.encode(), b"risk": b"2"})  # re-read
    assert len(await esc.followups.upcoming()) == 1                                               # idempotent
    clock.t = at("2026-03-09 09:00")
    await drain(esc)
    assert [(p.tier, p.targets) for p in rec.of(cid)] == [("callback", ("dch_duty",))]
    assert await aredis.xlen(keys.OUTBOX) == 0  # no message to the user for a callback


async def test_follow_up_api_reminds_staff_and_checks_in_with_the_user(aredis):
    clock = FakeClock(at("2026-03-02 10:00"))
    rec = Recorder()
    sealer = Sealer(Sealer.new_key())
    esc, cases = make(aredis, clock, [rec], sealer=sealer)
    cid = await open_case(cases, clock, risk=Risk.high)
    await cases.close(cid, "dch_duty", "follow_up", clock.now())
    fu = esc.followups
    fid = await fu.schedule(USER, clock.now() + 3 * 86400, "check_in", case_id=cid, staff="dch_duty", note="家属电话已登记")
    other = await fu.schedule("we-other", clock.now() + 86400, "screening_recheck")
    assert await fu.due(clock.now()) == []
    clock.advance(86400)
    assert [f.id for f in await fu.due(clock.now())] == [other]
    clock.advance(2 * 86400)
    await drain(esc)
    assert [(p.tier, p.targets) for p in rec.of(cid)][-1] == ("follow_up", ("dch_duty",))
    outbox = await aredis.xrange(keys.OUTBOX)
    assert len(outbox) == 2 and {f[b"kind"] for _, f in outbox} == {b"follow_up"}
    texts = {sealer.open(f[b"text"].decode()) for _, f in outbox}
    assert CHECK_IN_TEXTS["check_in"] in texts and CHECK_IN_TEXTS["screening_recheck"] in texts
    assert {f[b"user"]: f[b"channel"] for _, f in outbox}[USER.encode()] == b"wechat"
    assert (await fu.get(fid)).status == "done" and (await fu.get(fid)).note == "家属电话已登记"
    transcript = await Transcript(aredis, sealer).read(USER)
    assert transcript[-1].role == "bot" and "心驿" in transcript[-1].text
    events = [h["event"] for h in await cases.history(cid)]
    assert "follow_up_scheduled" in events
    await drain(esc)
    assert len(await aredis.xrange(keys.OUTBOX)) == 2  # delivered once


async def test_metrics_report_open_cases_by_level(aredis):
    clock = FakeClock(at("2026-03-02 10:00"))
    esc, cases = make(aredis, clock)
    await open_case(cases, clock, risk=Risk.imminent, user="a")
    await open_case(cases, clock, risk=Risk.high, user="b")
    await open_case(cases, clock, risk=Risk.high, user="c")
    await open_case(cases, clock, risk=Risk.medium, user="d")
    clock.advance(0.7)
    await drain(esc)
    text = (await esc.metrics.render(aredis)).decode()
    assert 'xinyi_cases_open{level="high"} 2.0' in text and 'xinyi_cases_open{level="imminent"} 1.0' in text
    assert 'xinyi_cases_open{level="medium"} 1.0' in text
    assert 'xinyi_time_to_page_seconds_count{level="high"} 2.0' in text
    assert 'xinyi_cases_created_total{level="high"} 2.0' in text
    assert json.loads  # keep import used
