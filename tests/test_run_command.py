"""`xinyi run` as a newcomer meets it: URLs printed, the first staff account's random password shown
once (and working), the bot serving while Rasa is unavailable, and a second start that shows no password."""
import os
import re
import signal
import subprocess
import sys
import time

import httpx

from bot.settings import ROOT
from core.seal import Sealer
from tests.live import free_port


def start(env) -> tuple[subprocess.Popen, list[str]]:
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--port", env["PORT"]], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if "Log in with your staff account" in line or "Add more with" in line:
            return proc, lines
    proc.kill()
    raise AssertionError("xinyi run did not come up:\n" + "".join(lines))


def wait_for(url: str) -> dict:
    deadline = time.monotonic() + 20
    while True:
        try:
            return httpx.get(url, timeout=5).json()
        except httpx.ConnectError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def stop(proc) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_first_start_prints_urls_and_a_one_time_password_second_start_does_not(clean_redis, tmp_path):
    port = str(free_port())
    env = {**os.environ, "REDIS_URL": clean_redis, "RASA_URL": f"http://127.0.0.1:{free_port()}",  # Rasa down
           "XINYI_DATA_DIR": str(tmp_path), "XINYI_ID_SECRET": "i" * 32, "XINYI_DATA_KEY": Sealer.new_key(),
           "XINYI_CONSOLE_SECRET": "c" * 32, "PORT": port}
    proc, lines = start(env)
    try:
        out = "".join(lines)
        assert f"http://127.0.0.1:{port}/chat" in out and f"http://127.0.0.1:{port}/console" in out
        password = re.search(r"password: (\S+)", out).group(1)
        assert len(password) >= 12
        base = f"http://127.0.0.1:{port}"
        health = wait_for(f"{base}/healthz")
        assert health["redis"] == "ok"
        chat = httpx.Client(base_url=base, timeout=10)
        chat.post("/chat/api/send", json={"text": "你好"})
        assert chat.post("/chat/api/send", json={"text": "我想自杀"}).json()["replies"][0]["kind"] == "safety"
        console = httpx.Client(base_url=base, timeout=10)
        assert console.post("/console/login", data={"username": "admin", "password": password}).status_code == 303
        assert len(console.get("/console/api/queue").json()["cases"]) == 1
    finally:
        stop(proc)
    proc, lines = start(env)
    try:
        assert "password:" not in "".join(lines)
    finally:
        stop(proc)
