"""Redis going away: a crisis still gets the safety reply, nothing is lost, cases appear on return."""
import time

import httpx
import redis as sync_redis

from core import keys
from core.embedded_redis import EmbeddedRedis
from tests.live import LiveServer


def test_crisis_during_redis_outage_is_answered_spooled_and_replayed(tmp_path, settings):
    server = EmbeddedRedis(tmp_path / "redis").start()
    try:
        with LiveServer(settings, server.url, rasa_url=None) as live:
            chat = httpx.Client(base_url=live.url, timeout=10)
            assert chat.post("/chat/api/send", json={"text": "你好"}).status_code == 200

            server.stop(kill=True)  # Redis dies
            r = chat.post("/chat/api/send", json={"text": "我想自杀"})
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["degraded"] and body["replies"][0]["kind"] == "safety"
            assert "12356" in body["replies"][0]["text"]
            r = chat.post("/chat/api/send", json={"text": "菜单"})
            assert r.status_code == 503 and "12356" in r.json()["replies"][0]["text"]
            health = httpx.get(f"{live.url}/healthz")
            assert health.status_code == 503 and health.json()["redis"] == "down"
            assert live.runtime.spool.pending() == 2

            server.start()  # Redis is back (AOF): the spool is replayed into a case
            client = sync_redis.Redis.from_url(server.url)
            deadline = time.monotonic() + 10
            while not client.zcard(keys.OPEN_CASES):
                assert time.monotonic() < deadline, "the spooled crisis never became a case"
                time.sleep(0.1)
            assert live.runtime.spool.pending() == 0
            client.close()
    finally:
        server.stop()
