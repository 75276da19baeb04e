"""End to end on real components: the web app over loopback HTTP, real Redis, real Rasa.

An employee chats in the web chat, writes a crisis message, the case reaches the console,
a staff member claims it and replies, and the reply arrives in the employee's chat.
"""
import time

import httpx
import pytest

from tests.fakes.staff import create_staff
from tests.live import LiveServer, free_port

pytestmark = pytest.mark.rasa


def chat_client(server) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=10)


def send(client, text, value=None):
    r = client.post("/chat/api/send", json={"text": text, **({"value": value} if value else {})})
    assert r.status_code == 200, r.text
    return r.json()["replies"]


@pytest.fixture
def live(settings, clean_redis, rasa_url):
    with LiveServer(settings, clean_redis, rasa_url) as server:
        yield server




def console(server, redis_url, username="duty1", password="correct horse battery"):
    create_staff(redis_url, username, password)
    c = httpx.Client(base_url=server.url, timeout=10)
    r = c.post("/console/login", data={"username": username, "password": password})
    assert r.status_code == 303
    page = c.get("/console").text
    csrf = page.split('name="csrf" content="')[1].split('"')[0]
    c.headers["X-CSRF-Token"] = csrf
    return c


def test_crisis_reaches_the_console_and_the_staff_reply_reaches_the_chat(live, clean_redis):
    employee = chat_client(live)
    send(employee, "你好")
    send(employee, "1")  # 同意
    started = time.monotonic()
    replies = send(employee, "我想自杀")
    assert time.monotonic() - started < 1.0
    assert replies[0]["kind"] == "safety" and "12356" in replies[0]["text"]

    staff = console(live, clean_redis)
    queue = staff.get("/console/api/queue").json()["cases"]
    assert len(queue) == 1 and queue[0]["risk"] in ("high", "imminent")
    case_id = queue[0]["id"]
    deadline = time.monotonic() + 5
    while staff.get("/console/api/queue").json()["cases"][0]["status"] != "paged":
        assert time.monotonic() < deadline, "the pager did not page within 5 s"
        time.sleep(0.05)
    detail = staff.get(f"/console/api/case/{case_id}").json()
    assert any(m["role"] == "user" and m["text"] == "我想自杀" for m in detail["messages"])

    assert staff.post(f"/console/api/case/{case_id}/claim").status_code == 200
    assert staff.post(f"/console/api/case/{case_id}/reply", json={"text": "我是值班的李老师，我在这里陪你。"}).status_code == 200
    msgs = employee.get("/chat/api/messages").json()["messages"]
    assert msgs[-1]["role"] == "staff" and msgs[-1]["text"] == "我是值班的李老师，我在这里陪你。"

    assert send(employee, "谢谢你") == []  # in handoff: relayed, the bot stays quiet
    assert staff.post(f"/console/api/case/{case_id}/close", json={"disposition": "follow_up"}).status_code == 200
    assert staff.get("/console/api/queue").json()["cases"] == []


def test_hyperbole_creates_no_case(live, clean_redis):
    employee = chat_client(live)
    send(employee, "你好")
    send(employee, "1")
    replies = send(employee, "今天加班累死了")
    assert all(r["kind"] != "safety" for r in replies)
    staff = console(live, clean_redis)
    assert staff.get("/console/api/queue").json()["cases"] == []


def test_rasa_picks_the_intent(live):
    employee = chat_client(live)
    send(employee, "你好")
    send(employee, "1")
    replies = send(employee, "心理援助热线的电话是多少")
    assert any("12356" in r["text"] for r in replies)


def test_with_rasa_gone_menus_work_and_crisis_still_escalates(settings, clean_redis):
    dead_rasa = f"http://127.0.0.1:{free_port()}"
    with LiveServer(settings, clean_redis, dead_rasa) as live:
        employee = chat_client(live)
        send(employee, "你好")
        menu = send(employee, "1")[-1]
        digit = next(str(i) for i, o in enumerate(menu["options"], 1) if o["value"] == "hotline")
        assert any("12356" in r["text"] for r in send(employee, digit))
        assert send(employee, "我想自杀")[0]["kind"] == "safety"
        health = httpx.get(f"{live.url}/healthz").json()
        assert health["status"] == "degraded" and health["rasa"].startswith("down")
        staff = console(live, clean_redis)
        assert len(staff.get("/console/api/queue").json()["cases"]) == 1


def test_bad_input_gets_a_clear_answer(live):
    c = chat_client(live)
    r = c.post("/chat/api/send", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "JSON" in r.json()["error"]
    r = c.post("/chat/api/send", json={"text": ""})
    assert r.status_code == 400
    r = c.post("/chat/api/send", content=b"x" * (1024 * 1024), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert c.get("/chat/api/messages", params={"after": "bogus"}).status_code == 400
    assert c.post("/console/api/case/c1/claim").status_code == 401


def test_console_refuses_wrong_password_and_missing_csrf(live, clean_redis):
    create_staff(clean_redis, "duty2", "right-password-123")
    c = httpx.Client(base_url=live.url, timeout=10)
    assert c.post("/console/login", data={"username": "duty2", "password": "wrong"}).status_code == 401
    assert c.post("/console/login", data={"username": "nobody", "password": "wrong"}).status_code == 401
    assert c.post("/console/login", data={"username": "duty2", "password": "right-password-123"}).status_code == 303
    employee = chat_client(live)
    send(employee, "你好")
    send(employee, "我想自杀")
    case_id = c.get("/console/api/queue").json()["cases"][0]["id"]
    assert c.post(f"/console/api/case/{case_id}/claim").status_code == 403  # no CSRF token
