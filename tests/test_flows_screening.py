"""Screenings, booking, follow-ups and data deletion through the real router on the real Redis."""
import shutil

import pytest

from bot.settings import ROOT
from core import keys
from core.clock import FakeClock
from escalation.cases import CaseStore
from escalation.followups import FollowUps
from tests.routing_kit import Conversation, make_router

PHQ9_BANDS = {3: "minimal", 4: "minimal", 5: "mild", 9: "mild", 10: "moderate", 14: "moderate",
              15: "moderately_severe", 19: "moderately_severe", 20: "severe", 24: "severe", 27: "severe"}
GAD7_BANDS = {3: "minimal", 4: "minimal", 5: "mild", 9: "mild", 10: "moderate", 14: "moderate", 15: "severe",
              21: "severe"}
PHQ9_LABELS = {"minimal": "没有或很少的情绪困扰", "mild": "轻度的情绪困扰", "moderate": "中度的情绪困扰",
               "moderately_severe": "中重度的情绪困扰", "severe": "重度的情绪困扰"}
GAD7_LABELS = {"minimal": "没有或很少的焦虑困扰", "mild": "轻度的焦虑困扰", "moderate": "中度的焦虑困扰",
               "severe": "重度的焦虑困扰"}


def answers_for(total: int, items: int, last_item_zero: bool = True) -> list[int]:
    """Item scores summing to `total`, first two summing to ≥ 3 (so the full scale is asked)."""
    scores = [2, 1] + [0] * (items - 2)
    rest = total - 3
    fill = range(items - 1) if last_item_zero else range(items)
    for i in list(fill) + [items - 1]:
        add = min(3 - scores[i], rest)
        scores[i] += add
        rest -= add
    assert rest == 0 and sum(scores) == total
    return scores


async def consented(router, user="we-screen", channel="web") -> Conversation:
    conv = Conversation(router, user=user, channel=channel)
    await conv.say("你好")
    await conv.say("同意")
    return conv


async def complete(conv: Conversation, start: str, scores: list[int]) -> str:
    await conv.say(start)
    for s in scores:
        await conv.say(str(s + 1))   # reply with the option's number: 1 = 0 points … 4 = 3 points
    return conv.text


@pytest.mark.parametrize("channel", ["web", "terminal"])
@pytest.mark.parametrize("total,band", sorted(PHQ9_BANDS.items()))
async def test_phq9_score_and_band_at_every_edge(aredis, channel, total, band):
    router = make_router(aredis)
    conv = await consented(router, channel=channel)
    text = await complete(conv, "情绪自评", answers_for(total, 9, last_item_zero=total <= 24))
    assert f"得分是 {total} 分（满分 27）" in text and PHQ9_LABELS[band] in text
    assert "诊断为" not in text and "抑郁症" not in text
    results = await router.userdata.results(conv.user)
    assert results[-1]["scale"] == "phq9" and results[-1]["score"] == total
    if channel == "terminal" and total <= 24:   # options become numbered lines on the terminal and WeChat
        assert "1. " in conv.replies[-1].as_numbered_text()


@pytest.mark.parametrize("total,band", sorted(GAD7_BANDS.items()))
async def test_gad7_score_and_band_at_every_edge(aredis, total, band):
    router = make_router(aredis)
    conv = await consented(router)
    text = await complete(conv, "焦虑自评", answers_for(total, 7, last_item_zero=False))
    assert f"得分是 {total} 分（满分 21）" in text and GAD7_LABELS[band] in text
    assert (await router.userdata.results(conv.user))[-1] == {
        "scale": "gad7", "score": total, "band": GAD7_LABELS[band], "at": pytest.approx(router.d.clock.now())}


@pytest.mark.parametrize("start,first_two,goes_on", [
    ("情绪自评", [0, 0], False), ("情绪自评", [1, 1], False), ("情绪自评", [2, 1], True), ("情绪自评", [0, 3], True),
    ("焦虑自评", [0, 0], False), ("焦虑自评", [2, 0], False), ("焦虑自评", [1, 2], True), ("焦虑自评", [3, 3], True)])
async def test_the_two_item_screen_continues_to_the_full_scale_at_three(aredis, start, first_two, goes_on):
    router = make_router(aredis)
    conv = await consented(router)
    text = await complete(conv, start, first_two)
    session = await router.d.sessions.load(conv.user)
    assert (session.flow["step"] == "q3") is goes_on
    if not goes_on:
        assert f"前两题得分 {sum(first_two)} 分" in text


@pytest.mark.parametrize("item9", [1, 2, 3])
async def test_item_9_above_zero_creates_a_case_whatever_the_total(aredis, item9):
    router = make_router(aredis)
    conv = await consented(router)
    text = await complete(conv, "情绪自评", [2, 1, 0, 0, 0, 0, 0, 0, item9])
    case = await CaseStore(aredis).open_case_of(conv.user)
    assert case is not None and case.risk.name == "high" and "request:escalate" in case.signals
    assert "12356" in text and "值班心理辅导员" in text


async def test_item_9_at_zero_creates_no_case_even_at_a_high_total(aredis):
    router = make_router(aredis)
    conv = await consented(router)
    await complete(conv, "情绪自评", [3, 3, 3, 3, 3, 3, 3, 3, 0])
    assert await CaseStore(aredis).open_case_of(conv.user) is None


async def test_without_consent_no_result_is_stored(aredis):
    router = make_router(aredis)
    conv = Conversation(router, user="we-noconsent")
    await conv.say("你好")
    await conv.say("不同意")
    text = await complete(conv, "焦虑自评", [3, 3, 3, 3, 3, 3, 3])
    assert "得分是 21 分" in text
    assert await router.userdata.results(conv.user) == []
    assert not await aredis.exists(keys.results(conv.user))


async def test_a_crisis_mid_questionnaire_takes_over(aredis):
    router = make_router(aredis)
    conv = await consented(router)
    await complete(conv, "情绪自评", [2, 2, 1])
    replies = await conv.say("我不想活了，今晚就跳")
    assert replies[0].kind == "safety"
    assert (await router.d.sessions.load(conv.user)).flow is None


async def test_a_follow_up_is_delivered_when_due_and_the_reply_opens_the_check_in(aredis):
    clock = FakeClock()
    router = make_router(aredis, clock=clock)
    conv = await consented(router, user="we-follow", channel="web")
    await complete(conv, "焦虑自评", [3, 3, 2, 2, 2, 2, 2])
    await conv.say("好的")
    assert "左右来问候你" in conv.text
    followups = FollowUps(aredis, router.d.transcript.sealer, router.d.transcript, clock)
    assert await followups.due(clock.now()) == []
    clock.advance(13 * 86400)
    assert await followups.run_due() == 0
    clock.advance(1 * 86400 + 1)
    due = await followups.due(clock.now())
    assert len(due) == 1 and due[0].user == conv.user and due[0].channel == "web"
    assert await followups.run_due() == 1
    last = (await router.d.transcript.read(conv.user))[-1]
    assert last.role == "bot" and "心驿" in last.text
    outbox = await aredis.xrange(keys.OUTBOX)
    assert outbox and outbox[-1][1][b"user"].decode() == conv.user
    assert await followups.run_due() == 0   # delivered once
    await conv.say("还行吧")
    assert "最近两周感觉怎么样" in conv.text


async def test_booking_is_stored_with_the_phone_sealed_and_kept_out_of_the_session(aredis):
    router = make_router(aredis)
    conv = await consented(router, user="we-book")
    await conv.say("预约")
    slot_label = conv.replies[-1].options[0].label
    await conv.say("1")
    await conv.say("打电话给我")
    assert "phone" not in (await router.d.sessions.load(conv.user)).vars
    await conv.say("13812345678")
    assert (await router.d.sessions.load(conv.user)).vars["phone"] == "13812345678"  # only until confirmed
    assert b"13812345678" not in await aredis.get(keys.session(conv.user))            # and sealed meanwhile
    await conv.say("确认预约")
    assert "phone" not in (await router.d.sessions.load(conv.user)).vars
    assert b"13812345678" not in await aredis.get(keys.session(conv.user))
    [booking] = await router.userdata.bookings()
    assert booking.slot_label == slot_label and booking.phone == "13812345678" and booking.contact == "phone"
    assert b"13812345678" not in b"".join((await aredis.hgetall(keys.booking(booking.id))).values())
    assert booking.id in conv.text


async def test_delete_my_data_removes_results_bookings_follow_ups_and_the_conversation(aredis):
    router = make_router(aredis)
    conv = await consented(router, user="we-forget")
    await complete(conv, "焦虑自评", [3, 3, 2, 2, 2, 2, 2])
    await conv.say("好的")
    fid = (await router.d.sessions.load(conv.user)).vars["followup_id"]
    await conv.say("预约")
    for answer in ("1", "在这里回复我", "确认预约"):
        await conv.say(answer)
    assert await router.userdata.bookings_of(conv.user) and await router.userdata.results(conv.user)
    await conv.say("删除我的数据")
    await conv.say("删除我的数据")
    await conv.say("确定删除")
    assert "已经删除" in conv.text
    assert await router.userdata.results(conv.user) == []
    assert await router.userdata.bookings_of(conv.user) == [] and await router.userdata.bookings() == []
    assert not await aredis.exists(keys.transcript(conv.user))
    assert (await router.followups.get(fid)).status == "cancelled"
    session = await router.d.sessions.load(conv.user)
    assert session.consent is None and session.vars == {}


async def test_a_broken_edit_is_reported_while_the_running_bot_serves_the_last_good_version(aredis, tmp_path):
    folder = tmp_path / "content"
    shutil.copytree(ROOT / "flows" / "content", folder)
    router = make_router(aredis, flows_dir=folder)
    router.d.flows.check_every_s = 0
    conv = await consented(router, user="we-reload")
    phq = folder / "phq9.yaml"
    phq.write_text(phq.read_text(encoding="utf-8").replace("  q3:\n    say:", "  q3:\n    say: [broken"),
                   encoding="utf-8")
    text = await complete(conv, "情绪自评", answers_for(12, 9))
    assert "得分是 12 分" in text
    [error] = [e for e in router.d.flows.errors if "phq9.yaml" in e]
    where = error.split("phq9.yaml:")[1]
    line, column = where.split(":")[:2]
    assert int(line) > 1 and int(column) >= 1 and "YAML" in error
