"""RasaClient against the real Rasa server, and against servers that misbehave."""
from __future__ import annotations

import asyncio
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from nlu.rasa_client import RasaClient, intent_from_parse

# A few held-out examples (nlu/eval/intents_heldout.yml), never trained on.
HELDOUT = [
    ("你好，有人能回复一下吗", "greet", {}),
    ("心理援助热线号码是多少", "hotline_info", {}),
    ("请转人工服务", "talk_to_human", {}),
    ("老失眠，想自己调一调", "self_help", {"topic": "睡眠"}),
    ("有什么冥想的引导吗", "self_help", {"topic": "正念放松"}),
    ("想做个抑郁测评看看", "screening", {"scale": "phq9"}),
    ("给我一份焦虑测评", "screening", {"scale": "gad7"}),
    ("我想约一次心理咨询", "book_counseling", {}),
    ("后天气温多少", "out_of_scope", {}),
    ("我在这说的单位会知道吗", "privacy", {}),
]


@pytest.mark.rasa
async def test_real_server_parses_heldout_examples(rasa_url):
    client = RasaClient(rasa_url, timeout_s=5.0)
    try:
        for text, intent, entities in HELDOUT:
            got = await client.parse(text)
            assert got is not None, client.last_error
            assert got.name == intent, (text, got)
            assert 0.0 <= got.confidence <= 1.0
            for k, v in entities.items():
                assert got.entities.get(k) == v, (text, got.entities)
    finally:
        await client.aclose()
    assert client.available and client.consecutive_failures == 0 and client.last_ok


@pytest.mark.rasa
def test_parse_sync_against_real_server(rasa_url):
    client = RasaClient(rasa_url, timeout_s=5.0)
    got = client.parse_sync("今天天气怎么样")
    client.close()
    assert got is not None and got.name == "out_of_scope"


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again: nothing listens there


async def test_unreachable_gives_none_quickly_and_backs_off():
    client = RasaClient(f"http://127.0.0.1:{_dead_port()}", timeout_s=0.4, backoff_s=2.0)
    t0 = time.monotonic()
    assert await client.parse("你好") is None
    assert time.monotonic() - t0 < 0.5
    assert client.available is False
    assert client.consecutive_failures == 1
    assert client.last_error == "connect error"
    # within the back-off window no request is made at all
    assert client.backing_off()
    assert await client.parse("你好") is None
    assert client.consecutive_failures == 1
    await client.aclose()


class _Handler(BaseHTTPRequestHandler):
    mode = "ok"

    def log_message(self, *a):  # keep test output clean
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        mode = self.server.mode  # type: ignore[attr-defined]
        if mode == "slow":
            time.sleep(1.5)
            body, code = b'{"intent": {"name": "greet", "confidence": 0.9}, "entities": []}', 200
        elif mode == "500":
            body, code = b"internal error", 500
        elif mode == "garbage":
            body, code = b"<html>not json", 200
        elif mode == "wrongshape":
            body, code = b'{"hello": 1}', 200
        else:
            body, code = (b'{"intent": {"name": "nlu_fallback", "confidence": 0.3},'
                          b' "entities": [{"entity": "scale", "value": "\xe7\x84\xa6\xe8\x99\x91"}]}'), 200
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture
def fake_server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    srv.mode = "ok"  # type: ignore[attr-defined]
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


async def test_slow_server_times_out_within_budget(fake_server):
    fake_server.mode = "slow"
    client = RasaClient(f"http://127.0.0.1:{fake_server.server_address[1]}", timeout_s=0.3)
    t0 = time.monotonic()
    assert await client.parse("我想预约") is None
    assert time.monotonic() - t0 < 0.6
    assert client.available is False and client.last_error == "timeout"
    await client.aclose()


@pytest.mark.parametrize("mode,error", [("500", "http 500"), ("garbage", "bad response"),
                                        ("wrongshape", "bad response")])
async def test_bad_answers_give_none(fake_server, mode, error):
    fake_server.mode = mode
    client = RasaClient(f"http://127.0.0.1:{fake_server.server_address[1]}", timeout_s=0.4)
    assert await client.parse("秘密内容 13800138000") is None
    assert client.available is False
    assert client.last_error.startswith(error)
    assert "秘密" not in client.last_error and "138" not in client.last_error
    await client.aclose()


async def test_recovers_after_backoff(fake_server):
    fake_server.mode = "500"
    client = RasaClient(f"http://127.0.0.1:{fake_server.server_address[1]}", timeout_s=0.4, backoff_s=0.2)
    assert await client.parse("x") is None
    fake_server.mode = "ok"
    assert await client.parse("x") is None          # still backing off: no call
    await asyncio.sleep(0.25)
    got = await client.parse("x")                   # probes again
    assert got is not None and client.available and client.consecutive_failures == 0
    # nlu_fallback is reported as out_of_scope; a stray 焦虑 scale becomes gad7
    assert got.name == "out_of_scope" and got.entities == {"scale": "gad7"}
    await client.aclose()


def test_sync_unreachable_is_none():
    client = RasaClient(f"http://127.0.0.1:{_dead_port()}", timeout_s=0.4)
    assert client.parse_sync("你好") is None and not client.available
    client.close()


def test_intent_from_parse_keeps_contract_intents():
    it = intent_from_parse({"intent": {"name": "self_help", "confidence": 0.91},
                            "entities": [{"entity": "topic", "value": "失眠"}]})
    assert it.name == "self_help" and it.entities == {"topic": "睡眠"}
