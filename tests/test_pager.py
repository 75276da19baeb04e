from core import keys
from escalation.cases import CaseStore
from escalation.pager import Pager
from nlu.risk import Risk


class Recorder:
    name = "recorder"

    def __init__(self, fail=False):
        self.paged, self.fail = [], fail

    async def notify(self, case):
        if self.fail:
            raise RuntimeError("paging channel down")
        self.paged.append(case.id)


async def test_high_cases_are_paged_once_medium_not(aredis):
    cases = CaseStore(aredis)
    high = await cases.open_or_join("u1", "web", "city", Risk.high, "self", [], now=1.0)
    await cases.open_or_join("u2", "web", "city", Risk.medium, "self", [], now=2.0)
    await cases.open_or_join("u1", "web", "city", Risk.imminent, "self", [], now=3.0)  # raised event
    rec = Recorder()
    pager = Pager(aredis, cases, [rec], consumer="w1")
    await pager.run_once(block_ms=10)
    await pager.run_once(block_ms=10)
    assert rec.paged == [high.case_id]
    assert (await cases.get(high.case_id)).status == "paged"


async def test_a_worker_dying_before_paging_leaves_the_event_for_another(aredis):
    cases = CaseStore(aredis)
    opened = await cases.open_or_join("u1", "web", "city", Risk.high, "self", [], now=1.0)
    dead = Pager(aredis, cases, [], consumer="dead")
    await dead.ensure_group()
    # the dead worker read the event but never acknowledged it (killed mid-way)
    await aredis.xreadgroup("pager", "dead", {keys.CASE_EVENTS: ">"}, count=10)
    rec = Recorder()
    alive = Pager(aredis, cases, [rec], consumer="alive", claim_idle_ms=0)
    await alive.run_once(block_ms=10)
    assert rec.paged == [opened.case_id]
    await alive.run_once(block_ms=10)
    assert rec.paged == [opened.case_id]  # exactly once
    assert (await aredis.xpending(keys.CASE_EVENTS, "pager"))["pending"] == 0


async def test_one_failing_channel_does_not_stop_the_others(aredis):
    cases = CaseStore(aredis)
    opened = await cases.open_or_join("u1", "web", "city", Risk.high, "self", [], now=1.0)
    broken, ok = Recorder(fail=True), Recorder()
    await Pager(aredis, cases, [broken, ok], consumer="w").run_once(block_ms=10)
    assert ok.paged == [opened.case_id]
