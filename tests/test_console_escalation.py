"""The console over HTTP against the real app: roles and org scope, live pages, claim, canned
replies, private notes, transfer to a colleague and to another organisation, close with 随访,
visible paging failures, charts and /metrics."""
import asyncio
import time

import httpx
from pydantic import SecretStr
import pytest
import redis as sync_redis
from redis.asyncio import Redis

from core import keys
from core.clock import FakeClock
from escalation.cases import CaseStore
from escalation.transcript import Transcript
from nlu.risk import Risk
from tests.escalation_kit import FakeWeCom, at
from tests.live import LiveServer
from tests.fakes.staff import create_staff

PW = "a long test password"
STAFF = {"dch_duty": ("staff", "dongcheng_hospital"), "dch_backup": ("staff", "dongcheng_hospital"),
         "dc_sup": ("supervisor", "dongcheng"), "hd_duty1": ("staff", "haidian"), "root": ("admin", "city")}


def login(live, username) -> httpx.Client:
    c = httpx.Client(base_url=live.url, timeout=10)
    r = c.post("/console/login", data={"username": username, "password": PW})
    assert r.status_code == 303, r.text
    page = c.get("/console").text
    c.headers["X-CSRF-Token"] = page.split('name="csrf" content="')[1].split('"')[0]
    return c


def seed_case(url, sealer, user, org, risk, text, now):
    async def go():
        r = Redis.from_url(url)
        await Transcript(r, sealer).append(user, "user", text, now, risk=risk.name)
        opened = await CaseStore(r).open_or_join(user, "web", org, risk, "self", ["intent:自杀"], now)
        await r.aclose()
        return opened.case_id
    return asyncio.run(go())


def wait_for(pred, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def live(settings, clean_redis):
    r = sync_redis.Redis.from_url(clean_redis)
    with FakeWeCom(mode="500") as wecom:
        s = settings.model_copy(update={"wecom_webhook_url": SecretStr(wecom.url)})
        with LiveServer(s, clean_redis, rasa_url=None, clock=FakeClock(at("2026-03-02 10:00"))) as server:
            for username, (role, org) in STAFF.items():
                create_staff(clean_redis, username, PW, org=org)
                r.hset(keys.staff(username), "role", role)
            server.redis_url = clean_redis
            server.sync = r
            yield server
    r.close()


def test_handoff_roles_scope_transfer_close_follow_up_charts_metrics(live):
    duty, backup, sup, other, admin = (login(live, u) for u in ("dch_duty", "dch_backup", "dc_sup", "hd_duty1", "root"))
    assert duty.get("/console/api/queue").json()["duty"]["on_duty"] == ["冯医生"]
    after = duty.get("/console/api/queue").json()["pages_after"]
    clock = live.runtime.clock
    cid = seed_case(live.redis_url, live.runtime.sealer, "we-user1", "dongcheng_hospital", Risk.imminent,
                    "我今晚就从楼顶跳下去", clock.now())
    assert wait_for(lambda: live.sync.hget(keys.case(cid), "status") == b"paged")

    # live page for the on-duty person; no message text in it
    q = duty.get(f"/console/api/queue?pages_after={after}").json()
    assert [(p["case"], p["tier"], p["mine"]) for p in q["pages"]] == [(cid, "on_duty", True)]
    assert "楼顶" not in str(q["pages"])
    # the failing WeCom robot is visible in the console
    assert [(f["channel"], f["case"]) for f in q["failures"]] == [("wecom", cid)]
    # scope: another district's staff does not see it
    assert cid not in [c["id"] for c in other.get("/console/api/queue").json()["cases"]]
    assert other.get(f"/console/api/case/{cid}").status_code == 404
    assert cid in [c["id"] for c in sup.get("/console/api/queue").json()["cases"]]

    # CSRF is required; claim; only the owner replies
    assert httpx.post(f"{live.url}/console/api/case/{cid}/claim", cookies=duty.cookies).status_code == 403
    assert duty.post(f"/console/api/case/{cid}/claim").json() == {"ok": True}
    assert backup.post(f"/console/api/case/{cid}/claim").status_code == 409
    assert backup.post(f"/console/api/case/{cid}/reply", json={"text": "hi"}).status_code == 409
    assert backup.post(f"/console/api/case/{cid}/close", json={"disposition": "resolved"}).status_code == 403
    page = duty.get(f"/console/case/{cid}").text
    assert "常用回复" in page and "确认安全" in page and "dch_backup" in page and "海淀区总工会心灵驿站" in page
    assert duty.post(f"/console/api/case/{cid}/reply", json={"text": "我是值班的冯医生，我在。"}).json()["ok"]
    assert duty.post(f"/console/api/case/{cid}/note", json={"text": "已联系家属，电话已登记"}).json()["ok"]
    detail = duty.get(f"/console/api/case/{cid}").json()
    assert detail["notes"][0]["text"] == "已联系家属，电话已登记" and detail["may_act"]
    raw = b"".join(v for _, f in live.sync.xrange(keys.case_notes(cid)) for v in f.values())
    assert "家属".encode() not in raw  # sealed at rest
    assert "家属" not in str(detail["history"])

    # transfer to a colleague, who gets a page
    assert duty.post(f"/console/api/case/{cid}/transfer", json={"to_staff": "hd_duty1"}).status_code == 400
    assert duty.post(f"/console/api/case/{cid}/transfer", json={"to_staff": "dch_backup"}).json()["ok"]
    after_b = backup.get("/console/api/queue").json()["pages_after"]
    assert live.sync.hget(keys.case(cid), "claimed_by") == b"dch_backup"
    assert duty.post(f"/console/api/case/{cid}/reply", json={"text": "x"}).status_code == 409
    pages = [p for _, f in live.sync.xrange(keys.PAGES) for p in [f[b"page"].decode()]]
    assert '"tier": "transfer"' in pages[-1] and '"dch_backup"' in pages[-1]
    assert backup.get(f"/console/api/queue?pages_after={after_b}").json()["pages"] == []  # read already

    # transfer to another organisation: unclaimed there, paged anew, out of the old scope
    assert backup.post(f"/console/api/case/{cid}/transfer", json={"to_org": "haidian"}).json()["ok"]
    assert wait_for(lambda: live.sync.hget(keys.case(cid), "org") == b"haidian")
    assert live.sync.hget(keys.case(cid), "status") == b"paged"
    assert duty.get(f"/console/api/case/{cid}").status_code == 404
    assert other.post(f"/console/api/case/{cid}/claim").json()["ok"]

    # close with 随访 in 3 days
    r = other.post(f"/console/api/case/{cid}/close", json={"disposition": "follow_up", "follow_up_days": 3})
    fid = r.json()["follow_up"]
    assert live.sync.hget(keys.followup(fid), "kind") == b"check_in"
    assert float(live.sync.hget(keys.followup(fid), "due_at")) == pytest.approx(clock.now() + 3 * 86400)
    assert [f["case"] for f in other.get("/console/api/queue").json()["followups"]] == [cid]
    events = [h["event"] for h in other.get(f"/console/api/case/{cid}").json()["history"]]
    for e in ("created", "page", "paged", "claimed", "replied", "note", "transferred", "transferred_org", "closed",
              "follow_up_scheduled"):
        assert e in events, e

    # charts: supervisors and admins only, scoped
    assert duty.get("/console/charts").status_code == 403 and duty.get("/console/api/stats").status_code == 403
    assert "统计图表" in admin.get("/console/charts").text
    stats = admin.get("/console/api/stats").json()
    assert stats["time_to_page"]["n"] == 1 and stats["time_to_claim"]["n"] == 2
    assert sup.get("/console/api/stats").json()["time_to_claim"]["n"] == 1  # the haidian claim is out of scope

    metrics = httpx.get(f"{live.url}/metrics").text
    assert 'xinyi_time_to_claim_seconds_count{level="imminent"} 2.0' in metrics
    assert 'xinyi_time_to_page_seconds_count{level="imminent"} 1.0' in metrics
    assert 'xinyi_paging_failures_total{channel="wecom"}' in metrics
    assert 'xinyi_cases_open{level="imminent"} 0.0' in metrics


def test_two_apps_in_one_process_keep_their_own_metrics(settings, clean_redis):
    with LiveServer(settings, clean_redis, None) as a, LiveServer(settings, clean_redis, None) as b:
        assert a.runtime.metrics.registry is not b.runtime.metrics.registry
        assert "xinyi_cases_open" in httpx.get(f"{a.url}/metrics").text
        assert "xinyi_cases_open" in httpx.get(f"{b.url}/metrics").text
