"""`xinyi run`: bring up everything a newcomer needs on one machine.

Writes a local .env with fresh secrets on first start, starts the embedded Redis unless
REDIS_URL is set, trains (only when the NLU data changed) and starts Rasa unless RASA_URL
is set, creates the first staff account with a random password (shown once), then serves.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import threading
import time
from pathlib import Path

from bot.settings import ROOT, load_settings
from core.embedded_redis import EmbeddedRedis
from core.seal import Sealer

log = logging.getLogger("xinyi.run")
RUNTIME_FILE = ROOT / "var" / "runtime.json"


def ensure_dotenv(path: Path = ROOT / ".env") -> bool:
    """Write a local .env with generated secrets unless secrets are already configured."""
    if path.exists() or os.environ.get("XINYI_ID_SECRET"):
        return False
    path.write_text(
        "# Written by `xinyi run` on first start: local secrets for this machine only. Never commit.\n"
        f"XINYI_ID_SECRET={secrets.token_urlsafe(32)}\n"
        f"XINYI_DATA_KEY={Sealer.new_key()}\n"
        f"XINYI_CONSOLE_SECRET={secrets.token_urlsafe(32)}\n", encoding="utf-8")
    path.chmod(0o600)
    return True


class LocalRasa:
    """Rasa on loopback, prepared in the background: the bot serves at once and degrades to
    menus, digits and keywords (and says so in /healthz) until the server answers. On a first
    start this covers building the Rasa venv and training, minutes on a fresh machine."""

    def __init__(self, say):
        self.say = say
        self.port = int(os.environ.get("XINYI_RASA_PORT", "5005"))
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self._stopping = threading.Event()

    def start(self) -> "LocalRasa":
        threading.Thread(target=self._prepare, name="rasa-prepare", daemon=True).start()
        return self

    def _prepare(self) -> None:
        from nlu import rasa_project
        t = time.monotonic()
        try:
            log = rasa_project.VAR_DIR / "rasa-venv.log"
            self.say(f"preparing the Rasa venv (first time: a few minutes; progress in {log})")
            venv = rasa_project.venv_path(progress_log=log)
            model = rasa_project.ensure_trained(venv)
            if self._stopping.is_set():
                return
            self.say(f"NLU model ready ({model.name}) after {time.monotonic() - t:.0f} s; starting the Rasa server")
            self.proc = rasa_project.start_server(venv, model, port=self.port)
        except Exception as exc:  # the bot keeps working without NLU
            self.say(f"Rasa could not be started ({type(exc).__name__}: {exc}); "
                     "the bot works from menus, digits and keywords — see var/rasa-*.log")

    def stop(self) -> None:
        self._stopping.set()
        if self.proc is not None:
            self.proc.terminate()


def run(host: str | None = None, port: int | None = None) -> None:
    started = time.monotonic()
    say = lambda m: print(f"[xinyi {time.monotonic() - started:5.1f}s] {m}", flush=True)  # noqa: E731
    if ensure_dotenv():
        say("wrote .env with freshly generated secrets (local to this machine)")
    settings = load_settings(**{k: v for k, v in {"host": host, "port": port}.items() if v is not None})
    embedded = None
    redis_url = settings.redis_url
    if not redis_url:
        embedded = EmbeddedRedis(settings.data_dir / "redis").start()
        redis_url = embedded.url
        say(f"embedded Redis (AOF on) at {embedded.data_dir}")
    local_rasa = None if settings.rasa_url else LocalRasa(say).start()
    rasa_url = settings.rasa_url or local_rasa.url
    say(f"Rasa at {rasa_url} (being prepared in the background; until it answers the bot works from "
        "menus, digits and keywords)")

    import uvicorn

    from bot.app import create_app
    from bot.runtime import build_runtime

    runtime = build_runtime(settings, redis_url, rasa_url)
    password = asyncio.run(_first_admin(redis_url, settings))
    RUNTIME_FILE.parent.mkdir(parents=True, exist_ok=True)
    RUNTIME_FILE.write_text(json.dumps({"redis_url": redis_url, "rasa_url": rasa_url,
                                        "web": settings.base_url}), encoding="utf-8")
    say("ready:")
    print(f"\n  Web chat (employees):  {settings.base_url}/chat\n"
          f"  Staff console:         {settings.base_url}/console\n"
          f"  Health:                {settings.base_url}/healthz", flush=True)
    if password:
        print(f"\n  First staff account created — shown only this once:\n"
              f"    username: admin\n    password: {password}\n"
              f"  Add more with: ./xinyi staff add USERNAME\n", flush=True)
    else:
        print("\n  Log in with your staff account (add one with: ./xinyi staff add USERNAME)\n", flush=True)
    try:
        # no access log: WeChat puts the openid in the query string, and URLs carry case ids
        uvicorn.run(create_app(runtime), host=settings.host, port=settings.port, log_level="warning", access_log=False)
    finally:
        RUNTIME_FILE.unlink(missing_ok=True)
        if local_rasa is not None:
            local_rasa.stop()
        if embedded is not None:
            embedded.stop()


async def _first_admin(redis_url: str, settings) -> str | None:
    from redis.asyncio import Redis

    from escalation.staff import StaffStore
    from escalation.orgs import Orgs
    redis = Redis.from_url(redis_url)
    try:
        return await StaffStore(redis).ensure_first_admin(Orgs.load(settings.orgs_file).default)
    finally:
        await redis.aclose()
