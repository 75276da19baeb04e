"""The push channels switched on by settings (WeChat, Telegram): their routes, lifecycle and
outbox dispatchers, for bot/app.py. A channel is on when its token is set."""
from __future__ import annotations

import asyncio
import logging
import os
import socket

from bot.outbox import OutboxDispatcher

log = logging.getLogger("xinyi.channels")


def push_channels(runtime) -> list:
    s = runtime.settings
    out = []
    if s.wechat_token:
        from bot.channels.wechat import WeChatChannel
        out.append(WeChatChannel(runtime))
    if s.telegram_token:
        from bot.channels.telegram import TelegramChannel
        out.append(TelegramChannel(runtime))
    return out


def dispatchers(runtime, channels: list) -> list[OutboxDispatcher]:
    consumer = f"{socket.gethostname()}-{os.getpid()}"
    s = runtime.settings
    return [OutboxDispatcher(runtime.redis, runtime.sealer, runtime.cases, ch, consumer, clock=runtime.clock,
                             retry_s=s.outbox_retry_s, max_attempts=s.outbox_max_attempts)
            for ch in channels]


async def run_dispatchers(runtime, channels: list, stop: asyncio.Event) -> None:
    await asyncio.gather(*(d.run_forever(stop) for d in dispatchers(runtime, channels)))
