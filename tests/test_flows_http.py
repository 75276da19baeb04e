"""As a new user would: the web chat over loopback HTTP (real app, real Redis, Rasa down → keywords
and digits), a booking reaching the staff console, and the console's flow drawings."""
import asyncio

import httpx
import pytest
from redis.asyncio import Redis

from escalation.staff import StaffStore
from tests.live import LiveServer


@pytest.fixture
def live(settings, clean_redis):
    with LiveServer(settings, clean_redis, None, background=False) as server:
        yield server


def send(client, text, value=None):
    r = client.post("/chat/api/send", json={"text": text, **({"value": value} if value else {})})
    assert r.status_code == 200, r.text
    return r.json()["replies"]


def staff_client(server, redis_url) -> httpx.Client:
    async def create():
        redis = Redis.from_url(redis_url)
        await StaffStore(redis).create("editor1", "correct horse battery", "李老师", "staff", "city")
        await redis.aclose()
    asyncio.run(create())
    c = httpx.Client(base_url=server.url, timeout=10)
    assert c.post("/console/login", data={"username": "editor1", "password": "correct horse battery"}).status_code == 303
    page = c.get("/console").text
    c.headers["X-CSRF-Token"] = page.split('name="csrf" content="')[1].split('"')[0]
    return c


def test_phq9_start_to_finish_in_the_web_chat(live):
    employee = httpx.Client(base_url=live.url, timeout=10)
    assert "知情同意" in send(employee, "你好")[-1]["text"]
    send(employee, "", value="consent_yes")
    replies = send(employee, "情绪自评")
    assert [o["label"] for o in replies[-1]["options"]] == ["完全不会", "好几天", "一半以上的天数", "几乎每天"]
    for value in ("3", "2", "1", "1", "1", "1", "1", "1"):   # buttons carry the option's value
        send(employee, "", value=value)
    replies = send(employee, "完全不会")                      # … or the label typed
    text = "\n".join(r["text"] for r in replies)
    assert "得分是 11 分" in text and "中度的情绪困扰" in text and "两周后" in text


def test_a_booking_shows_in_the_console_and_the_confirmation_reaches_the_chat(live, clean_redis):
    employee = httpx.Client(base_url=live.url, timeout=10)
    send(employee, "你好")
    send(employee, "同意")
    replies = send(employee, "预约咨询")
    slot = replies[-1]["options"][0]
    send(employee, "", value=slot["value"])
    send(employee, "在这里回复我")
    done = send(employee, "确认预约")
    assert "已提交预约申请" in done[0]["text"]

    staff = staff_client(live, clean_redis)
    page = staff.get("/console/bookings")
    assert page.status_code == 200 and slot["label"] in page.text and "在这里回复我" in page.text
    [booking] = staff.get("/console/api/bookings").json()["bookings"]
    assert booking["slot_label"] == slot["label"] and booking["status"] == "requested" and "user" not in booking
    r = staff.post(f"/console/api/bookings/{booking['id']}/status",
                   json={"status": "confirmed", "message": "你好，预约已确认，届时在这里联系你。"})
    assert r.status_code == 200
    assert staff.get("/console/api/bookings").json()["bookings"][0]["status"] == "confirmed"
    msgs = employee.get("/chat/api/messages").json()["messages"]
    assert msgs[-1]["role"] == "staff" and "预约已确认" in msgs[-1]["text"]
    del staff.headers["X-CSRF-Token"]
    assert staff.post(f"/console/api/bookings/{booking['id']}/status", json={"status": "cancelled"}).status_code == 403


def test_the_console_draws_every_flow_and_needs_a_login(live, clean_redis):
    anonymous = httpx.Client(base_url=live.url, timeout=10, follow_redirects=False)
    assert anonymous.get("/console/flows").headers["location"] == "/console/login"
    assert anonymous.get("/console/bookings").status_code == 303
    assert anonymous.get("/console/api/bookings").status_code == 401
    staff = staff_client(live, clean_redis)
    listing = staff.get("/console/flows").text
    flows = live.runtime.flows.engine.flows
    for flow_id in flows:
        assert f'href="/console/flows/{flow_id}"' in listing
        page = staff.get(f"/console/flows/{flow_id}")
        assert page.status_code == 200 and "<svg" in page.text and f'id="step-{flows[flow_id].start}"' in page.text
    drawing = staff.get("/console/flows/phq9").text
    assert "如果 item9 &gt; 0" in drawing and "→ 流程 satisfaction" in drawing
    assert staff.get("/console/flows/nosuchflow").status_code == 404
