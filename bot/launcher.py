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


def start_rasa(settings, say) -> tuple[str, object | None]:
    if settings.rasa_url:
        return settings.rasa_url, None
    from nlu import rasa_project
    t = time.monotonic()
    venv = rasa_project.venv_path()
    model = rasa_project.ensure_trained(venv)
    say(f"NLU model ready ({model.name}) in {time.monotonic() - t:.0f} s")
    port = int(os.environ.get("XINYI_RASA_PORT", "5005"))
    proc = rasa_project.start_server(venv, model, port=port)
    return f"http://127.0.0.1:{port}", proc


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
    rasa_url, rasa_proc = start_rasa(settings, say)
    say(f"Rasa server starting at {rasa_url} (the bot answers menus and keywords until it is ready)")

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
        if rasa_proc is not None:
            rasa_proc.terminate()
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
