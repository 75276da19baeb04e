"""A stand-alone escalation worker: `python -m escalation.worker` (settings as for `xinyi serve`).

The web app runs the same loop in its background; run extra copies of this for more
paging capacity or to page while the web app is down. Stops cleanly on SIGTERM/SIGINT.
"""
from __future__ import annotations

import asyncio
import logging
import signal


async def main() -> None:
    from redis.asyncio import Redis

    from bot.settings import load_settings
    from core.seal import Sealer
    from escalation.cases import CaseStore
    from escalation.orgs import Orgs
    from escalation.service import build_escalation
    from escalation.transcript import Transcript

    settings = load_settings()
    if not settings.redis_url:
        raise SystemExit("the escalation worker needs REDIS_URL")
    redis = Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=2)
    sealer = Sealer(settings.data_key.get_secret_value())
    esc = build_escalation(
        redis, CaseStore(redis), Orgs.load(settings.orgs_file), roster_file=settings.roster_file, sealer=sealer,
        transcript=Transcript(redis, sealer), base_url=settings.base_url, sla_s=settings.sla_overrides,
        wecom_webhook=settings.wecom_webhook_url.get_secret_value() if settings.wecom_webhook_url else None)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    logging.getLogger("xinyi.escalation").warning("escalation worker %s started", esc.pager.consumer)
    await esc.run_forever(stop)
    await redis.aclose()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(main())
