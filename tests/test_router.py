import logging

import pytest

from core import keys
from escalation.cases import CaseStore
from nlu.intent import Intent
from tests.routing_kit import Conversation, ScriptedParser, make_router


async def consented(router, user="we-test-user") -> Conversation:
    conv = Conversation(router, user=user)
    await conv.say("你好")
    await conv.say("1")  # 同意
    return conv


async def test_first_contact_asks_consent_with_options(aredis):
    conv = Conversation(make_router(aredis))
    replies = await conv.say("你好")
    assert "知情同意" in conv.text
    assert [o.label for o in replies[-1].options] == ["同意", "不同意"]


async def test_digit_answers_the_waiting_question_and_records_consent(aredis):
    router = make_router(aredis)
    conv = await consented(router)
    assert "想从哪里开始" in conv.text
    session = await router.d.sessions.load(conv.user)
    assert session.consent is True and session.flow == {"flow": "main_menu", "step": "menu"}


async def test_crisis_mid_flow_takes_over_with_safety_reply_and_one_case(aredis):
    router = make_router(aredis)
    conv = await consented(router)
    replies = await conv.say("我想自杀")
    assert replies[0].kind == "safety"
    for number in ("12356", "010-82951332", "400-161-9995", "110"):
        assert number in replies[0].text
    case = await CaseStore(aredis).open_case_of(conv.user)
    assert case is not None and case.risk.name in ("high", "imminent") and case.status == "open"
    assert (await router.d.sessions.load(conv.user)).flow is None
    await conv.say("我真的不想活了")
    assert (await CaseStore(aredis).queue()) == [await CaseStore(aredis).get(case.id)]


async def test_later_crisis_raises_the_open_case(aredis):
    router = make_router(aredis)
    conv = await consented(router)
    await conv.say("我想自杀")
    first = await CaseStore(aredis).open_case_of(conv.user)
    await conv.say("药已经吃了")
    raised = await CaseStore(aredis).open_case_of(conv.user)
    assert raised.id == first.id and raised.risk.name == "imminent"
    events = [h["event"] for h in await CaseStore(aredis).history(first.id)]
    assert events[0] == "created" and "raised" in events or first.risk.name == "imminent"


async def test_hyperbole_creates_no_case(aredis):
    router = make_router(aredis)
    conv = await consented(router)
    await conv.say("今天加班累死了")
    assert await CaseStore(aredis).open_case_of(conv.user) is None
    assert all(r.kind != "safety" for r in conv.replies)


async def test_rasa_down_degrades_to_keywords(aredis):
    router = make_router(aredis, parser=ScriptedParser())  # every parse → None, as when Rasa is down
    conv = await consented(router)
    await conv.say("有没有热线电话")
    assert "12356" in conv.text


async def test_confident_intent_starts_its_flow(aredis):
    parser = ScriptedParser({"想找个人聊聊": Intent("talk_to_human", 0.93)})
    router = make_router(aredis, parser=parser)
    conv = await consented(router)
    await conv.say("想找个人聊聊")
    assert "心理辅导员联系你" in conv.text


async def test_unknown_text_mid_question_asks_again(aredis):
    router = make_router(aredis, parser=ScriptedParser())
    conv = await consented(router)
    await conv.say("asdfgh")
    assert "没太明白" in conv.text and conv.replies[-1].options


async def test_handoff_relays_without_bot_reply_and_crisis_still_answers(aredis):
    router = make_router(aredis)
    conv = await consented(router)
    await conv.say("我想自杀")
    cases = CaseStore(aredis)
    case = await cases.open_case_of(conv.user)
    await cases.claim(case.id, "staff1", 1.0)
    assert await conv.say("我在家里") == []
    replies = await conv.say("今晚就跳楼")
    assert replies[0].kind == "safety"
    assert (await cases.get(case.id)).risk.name == "imminent"
    assert (await cases.get(case.id)).status == "claimed"


async def test_medium_offers_support_and_queues_a_callback_not_a_page(aredis):
    router = make_router(aredis)
    conv = await consented(router)
    await conv.say("活着没意思")
    case = await CaseStore(aredis).open_case_of(conv.user)
    assert case is not None and case.risk.name == "medium"
    assert "12356" in conv.text


async def test_a_concern_from_the_learned_signal_alone_records_a_case_but_keeps_the_flow(aredis):
    from nlu.risk import Assessment, Risk
    router = make_router(aredis)
    learned = Assessment(Risk.medium, "self", ("model:concern(0.70)",))
    router.d.assess = lambda text: learned if text == "想好了" else Assessment()
    conv = await consented(router)
    before = (await router.d.sessions.load(conv.user)).flow
    replies = await conv.say("想好了")
    assert all(r.kind != "safety" for r in replies) and "12356" not in conv.text
    assert (await router.d.sessions.load(conv.user)).flow is not None and before is not None
    case = await CaseStore(aredis).open_case_of(conv.user)
    assert case is not None and case.risk.name == "medium"   # staff can still call back
    # outside a flow the same guess gets the support reply
    session = await router.d.sessions.load(conv.user)
    session.flow = None
    await router.d.sessions.save(conv.user, session)
    replies = await conv.say("想好了")
    assert replies[0].kind == "safety" and "12356" in replies[0].text


async def test_option_button_value_is_consumed(aredis):
    router = make_router(aredis)
    conv = await consented(router)
    await conv.say("心理援助热线", value="hotline")
    assert "12356" in conv.text


async def test_text_is_sealed_at_rest_and_never_logged(aredis, caplog):
    caplog.set_level(logging.DEBUG)
    router = make_router(aredis)
    conv = await consented(router)
    secret_text = "我想自杀 我的电话13812345678"
    await conv.say(secret_text)
    raw = await aredis.xrange(keys.transcript(conv.user))
    assert raw and all(b"13812345678" not in v for _, f in raw for v in f.values())
    assert "13812345678" not in caplog.text and "我想自杀" not in caplog.text
    assert "crisis" in caplog.text  # the event itself is logged, by pseudonym


async def test_oversized_message_is_still_assessed_in_full(aredis):
    router = make_router(aredis)
    conv = await consented(router)
    replies = await conv.say("今天的工作情况是这样的。" * 300 + "我想自杀")
    assert replies[0].kind == "safety"


async def test_session_state_is_sealed_at_rest(aredis):
    router = make_router(aredis)
    conv = await consented(router)
    session = await router.d.sessions.load(conv.user)
    session.vars["phone"] = "13812345678"
    await router.d.sessions.save(conv.user, session)
    raw = await aredis.get(keys.session(conv.user))
    assert b"13812345678" not in raw and b"consent" not in raw
    assert (await router.d.sessions.load(conv.user)).vars["phone"] == "13812345678"


async def test_delete_my_data_forgets_the_delivery_address_too(aredis):
    from bot.addresses import AddressBook
    router = make_router(aredis)
    conv = await consented(router)
    await AddressBook(aredis, router.d.transcript.sealer).remember(conv.user, "wechat", {"openid": "o-1"}, 1.0)
    await conv.say("删除我的数据")
    await conv.say("删除我的数据")
    await conv.say("确定删除")
    assert "已经删除" in conv.text
    assert await aredis.exists(keys.user_profile(conv.user)) == 0
    assert await aredis.exists(keys.transcript(conv.user)) == 0


async def test_organisation_from_the_entry_link_is_kept_and_unknown_ones_ignored(aredis):
    from bot.messages import Inbound
    router = make_router(aredis)
    known = next(o for o in router.d.orgs.orgs if o != router.d.orgs.default)
    await router.handle(Inbound(channel="web", user="u-known", text="你好", org=known))
    await router.handle(Inbound(channel="web", user="u-bogus", text="你好", org="no-such-org"))
    assert (await router.d.sessions.load("u-known")).org == known
    assert (await router.d.sessions.load("u-bogus")).org is None
    await router.handle(Inbound(channel="web", user="u-bogus", text="我想自杀", org="no-such-org"))
    case = await CaseStore(aredis).open_case_of("u-bogus")
    assert case.org == router.d.orgs.default
