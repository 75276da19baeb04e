"""A real Xinyi web app on a loopback port, in a thread, for end-to-end tests."""
from __future__ import annotations

import secrets
import socket
import threading
import time
from pathlib import Path

import uvicorn

from bot.app import create_app
from bot.runtime import build_runtime
from bot.settings import Settings
from core.seal import Sealer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_settings(data_dir: Path, **overrides) -> Settings:
    values = dict(id_secret=secrets.token_urlsafe(16), data_key=Sealer.new_key(),
                  console_secret=secrets.token_urlsafe(16), data_dir=data_dir, redis_url=None, rasa_url=None)
    values.update(overrides)
    return Settings(_env_file=None, **values)


class LiveServer:
    def __init__(self, settings: Settings, redis_url: str, rasa_url: str | None, clock=None, background=True):
        self.port = free_port()
        self.settings = settings.model_copy(update={"port": self.port})
        self.runtime = build_runtime(self.settings, redis_url, rasa_url, clock=clock)
        config = uvicorn.Config(create_app(self.runtime, background=background), host="127.0.0.1",
                                port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("web app did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
