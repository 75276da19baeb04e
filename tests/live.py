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


class ThreadServer:
    """An ASGI app on a free loopback port, served by uvicorn in a thread."""

    def __init__(self, app, lifespan: str = "off", port: int | None = None, start_timeout_s: float = 15.0):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.start_timeout_s = start_timeout_s
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    lifespan=lifespan, access_log=False))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self):
        self.thread.start()
        deadline = time.monotonic() + self.start_timeout_s
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class LiveServer:
    """The real Xinyi web app (background work included) on a loopback port."""

    def __init__(self, settings: Settings, redis_url: str, rasa_url: str | None, clock=None, background=True):
        self.port = free_port()  # the app's links use settings.port, so serve on the port the settings name
        self.settings = settings.model_copy(update={"port": self.port})
        self.runtime = build_runtime(self.settings, redis_url, rasa_url, clock=clock)
        self._server = ThreadServer(create_app(self.runtime, background=background), lifespan="on", port=self.port)
        self.url = self._server.url

    def __enter__(self) -> "LiveServer":
        self._server.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.stop()
