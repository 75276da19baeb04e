"""`xinyi chat`: the terminal as an employee's chat window.

Options become numbered lines (reply with the digit). Shares Redis and Rasa with a running
`xinyi run` (var/runtime.json) so staff replies from the console appear here too;
otherwise it starts the embedded Redis itself and works without Rasa.
"""
from __future__ import annotations

import asyncio
import getpass
import json
import sys

from bot.messages import Inbound, Outbound
from core.pseudonym import pseudonym

PROMPT = "你> "


def _print(out: Outbound | str, who: str = "心驿") -> None:
    text = out.as_numbered_text() if isinstance(out, Outbound) else out
    print(f"\n{who}：{text}\n", flush=True)


async def _watch_staff(runtime, user: str, after: str) -> None:
    last = after
    while True:
        await asyncio.sleep(1.0)
        for e in await runtime.transcript.read(user, after=last):
            last = e.id
            if e.role == "staff":
                _print(e.text, who="值班人员")
                print(PROMPT, end="", flush=True)


async def _chat(runtime, user: str) -> None:
    loop = asyncio.get_running_loop()
    existing = await runtime.transcript.read(user)
    watcher = asyncio.create_task(_watch_staff(runtime, user, existing[-1].id if existing else "-"))
    print("心驿 · 职工心灵驿站（输入「菜单」查看选项，Ctrl-D 退出；紧急情况请拨打 110 / 120 或 12356）")
    try:
        first = True
        while True:
            if first:
                line, first = "你好", False
            else:
                line = await loop.run_in_executor(None, lambda: input(PROMPT))
            if not line.strip():
                continue
            for reply in await runtime.router.handle(Inbound(channel="terminal", user=user, text=line)):
                _print(reply)
    except (EOFError, KeyboardInterrupt):
        print("\n再见，照顾好自己。")
    finally:
        watcher.cancel()
        await runtime.close()


def main(as_user: str = "") -> None:
    from bot.launcher import RUNTIME_FILE, ensure_dotenv
    from bot.runtime import build_runtime
    from bot.settings import load_settings
    from core.embedded_redis import EmbeddedRedis

    ensure_dotenv()
    settings = load_settings()
    shared = json.loads(RUNTIME_FILE.read_text()) if RUNTIME_FILE.exists() else {}
    redis_url = settings.redis_url or shared.get("redis_url")
    embedded = None
    if not redis_url:
        embedded = EmbeddedRedis(settings.data_dir / "redis").start()
        redis_url = embedded.url
        print("（未发现运行中的 xinyi run：已启动内置 Redis；没有 Rasa，按菜单和关键词工作）", file=sys.stderr)
    runtime = build_runtime(settings, redis_url, settings.rasa_url or shared.get("rasa_url"))
    user = pseudonym(settings.id_secret.get_secret_value(), "terminal", as_user or getpass.getuser())
    try:
        asyncio.run(_chat(runtime, user))
    finally:
        if embedded is not None:
            embedded.stop()
