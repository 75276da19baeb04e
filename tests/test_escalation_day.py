"""A simulated day (Monday 2026-03-02, Asia/Shanghai) on the real roster with a controllable clock:
scripted crises across shifts and organisations, fake staff who answer after scripted delays (or
never). Every case is paged within 5 s, re-escalated per SLA while unclaimed, and routed to the
parent organisation when a base unit has nobody on duty."""
from core.clock import FakeClock
from core.seal import Sealer
from escalation.cases import CaseStore
from escalation.orgs import Orgs
from escalation.service import build_escalation
from escalation.transcript import Transcript
from nlu.risk import Risk
from tests.escalation_kit import ORGS_FILE, ROSTER_FILE, Recorder, at

# when, organisation, risk, {staff: seconds after their first page until they claim (None: never)}
SCRIPT = [
    ("2026-03-02 09:30", "dongcheng_hospital", Risk.imminent, {"dch_duty": 20}),
    ("2026-03-02 11:00", "haidian_tech", Risk.high, {"hdt_duty": None, "hd_sup": 30}),
    ("2026-03-02 12:00", "haidian", Risk.medium, {}),
    ("2026-03-02 14:00", "yanqing_power", Risk.imminent, {"yq_duty": 100}),
    ("2026-03-02 18:30", "dongcheng_hospital", Risk.high, {"city_day1": 10}),
    ("2026-03-02 23:00", "dongcheng_street", Risk.imminent, {"city_night1": None, "city_night2": 150}),
    ("2026-03-03 06:30", "yanqing_power", Risk.high, {"city_night1": None, "city_night2": None, "yq_sup": 5}),
]

# case index → expected (tier, targets, seconds after creation ±2)
EXPECTED = {
    0: [("on_duty", ("dch_duty",), 0)],
    1: [("on_duty", ("hdt_duty",), 0), ("repeat", ("hdt_duty",), 180), ("supervisor", ("hd_sup", "hdt_duty"), 360)],
    3: [("on_duty", ("yq_duty",), 0), ("repeat", ("yq_duty",), 60)],
    4: [("on_duty", ("city_day1",), 0)],
    5: [("on_duty", ("city_night1",), 0), ("repeat", ("city_night1", "city_night2"), 60),
        ("supervisor", ("city_sup", "city_night1", "city_night2"), 120),
        ("chain", ("dc_sup", "city_sup", "city_night1", "city_night2"), 180)],
    6: [("on_duty", ("city_night1",), 0), ("repeat", ("city_night1", "city_night2"), 180),
        ("supervisor", ("city_sup", "city_night1", "city_night2"), 360),
        ("chain", ("yq_sup", "city_sup", "city_night1", "city_night2"), 540)],
}
TEAMS = {0: "dongcheng_hospital", 1: "haidian_tech", 3: "yanqing", 4: "city", 5: "city", 6: "city"}


async def test_a_simulated_day(aredis):
    clock = FakeClock(at(SCRIPT[0][0]))
    rec = Recorder()
    sealer = Sealer(Sealer.new_key())
    cases = CaseStore(aredis)
    esc = build_escalation(aredis, cases, Orgs.load(ORGS_FILE), roster_file=ROSTER_FILE, clock=clock, sealer=sealer,
                           transcript=Transcript(aredis, sealer), notifiers=[rec], consumer="sim", claim_idle_ms=0)
    ids, timeline = [], []
    for i, (when, org, risk, answers) in enumerate(SCRIPT):
        clock.t = at(when)
        cid = (await cases.open_or_join(f"user{i}", "wechat", org, risk, "self", [], clock.now())).case_id
        ids.append(cid)
        created = clock.now()
        first_paged: dict[str, float] = {}
        for _ in range(20 * 60):  # step the day second by second while this case is live
            await esc.run_once(block_ms=0)
            for p in rec.of(cid):
                for person in p.targets:
                    first_paged.setdefault(person, clock.now())
            case = await cases.get(cid)
            if case.status == "claimed" or risk < Risk.high:
                break
            for person, delay in answers.items():
                if delay is not None and person in first_paged and clock.now() - first_paged[person] >= delay:
                    await cases.claim(cid, person, clock.now())
                    break
            clock.advance(1)
        case = await cases.get(cid)
        timeline.append((when, org, risk.name, [(p.tier, p.team, p.targets, round(p.at - created)) for p in rec.of(cid)],
                         case.claimed_by, case.paged_at and case.paged_at - created))

    for i, (when, org, risk, answers) in enumerate(SCRIPT):
        case = await cases.get(ids[i])
        pages = rec.of(ids[i])
        if risk < Risk.high:
            assert [p.tier for p in pages] == ["callback"] and case.status == "open"  # no SLA paging
            continue
        assert case.paged_at - case.created_at <= 5, f"case {i} paged after {case.paged_at - case.created_at}s"
        got = [(p.tier, p.targets, p.at - case.created_at) for p in pages]
        assert len(got) == len(EXPECTED[i]), (i, got)
        for (tier, targets, secs), (etier, etargets, esecs) in zip(got, EXPECTED[i]):
            assert (tier, targets) == (etier, etargets), (i, got)
            assert abs(secs - esecs) <= 2, (i, got)
        assert {p.team for p in pages} == {TEAMS[i]}, (i, pages)
        assert case.status == "claimed"
    # the parent took the base units' cases when nobody was on duty there
    assert rec.of(ids[4])[0].org == "dongcheng_hospital" and rec.of(ids[4])[0].team == "city"
    assert rec.of(ids[3])[0].team == "yanqing"
    # the medium case got a callback task within service hours (haidian is open at noon)
    assert [(f.kind, f.case_id) for f in await esc.followups.upcoming()] == []   # delivered at once
    assert [p.tier for p in rec.pages if p.case_id == ids[2]] == ["callback"]
    for line in timeline:
        print(line)
