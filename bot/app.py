"""The one ASGI app: web chat, staff console, /healthz and /metrics (channels mount here too)."""
from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.exceptions import RedisError

from bot.channels.push import push_channels, run_dispatchers
from bot.channels.web import web_chat_routes
from bot.flow_pages import flow_pages_routes
from escalation.console.routes import console_routes

log = logging.getLogger("xinyi.app")


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except asyncio.TimeoutError:
        pass


async def _replay_spool(runtime, stop: asyncio.Event, every_s: float = 1.0) -> None:
    """Messages spooled while Redis was down go through the router once it answers (failures stay spooled)."""
    while not stop.is_set() and runtime.spool is not None:
        await runtime.spool.replay(runtime.router.handle)
        await _pause(stop, every_s)


async def _watch_nlu(runtime, stop: asyncio.Event, every_s: float = 5.0) -> None:
    """Keep /healthz honest about Rasa: probe it now and then, also when no message needs it."""
    while not stop.is_set() and runtime.nlu is not None:
        await runtime.nlu.probe()
        await _pause(stop, every_s)


def create_app(runtime, background: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        stop = asyncio.Event()
        for channel in channels:
            await channel.start()
        # paging, SLA timers and follow-ups (escalation), spool replay, Rasa probe, channel dispatchers;
        # all state is in Redis, so N copies of the app can run these side by side
        tasks = [asyncio.create_task(runtime.escalation.run_forever(stop)),
                 asyncio.create_task(_replay_spool(runtime, stop)),
                 asyncio.create_task(run_dispatchers(runtime, channels, stop)),
                 asyncio.create_task(_watch_nlu(runtime, stop))] if background else []
        yield
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for channel in channels:
            await channel.stop()
        await runtime.close()

    channels = push_channels(runtime)   # WeChat / Telegram, when their tokens are set
    # Paging channels: a push channel that can page staff (e.g. the Telegram staff chat) offers
    # `staff_notifier()` → an escalation.paging.Notifier (`name`, `async notify(page)`) or None.
    for channel in channels:
        notifier = channel.staff_notifier() if hasattr(channel, "staff_notifier") else None
        if notifier is not None and runtime.escalation is not None:
            runtime.escalation.add_notifier(notifier)
    app = FastAPI(title="Xinyi", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.channels = channels
    app.state.runtime = runtime
    limit = runtime.settings.max_body_bytes

    @app.middleware("http")
    async def body_limit(request: Request, call_next):
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            return JSONResponse({"error": f"请求太大（上限 {limit // 1024} KB）"}, status_code=413)
        if request.method in ("POST", "PUT") and length is None:
            body = await request.body()
            if len(body) > limit:
                return JSONResponse({"error": f"请求太大（上限 {limit // 1024} KB）"}, status_code=413)
        return await call_next(request)

    @app.get("/")
    async def root():
        return RedirectResponse("/chat")

    @app.get("/healthz")
    async def healthz():
        status = {"redis": "ok", "rasa": "not configured", "flows": "ok", "degraded": []}
        try:
            await runtime.redis.ping()
        except RedisError:
            status["redis"] = "down"
            status["degraded"].append("redis")
        if runtime.nlu is not None:
            status["rasa"] = "ok" if runtime.nlu.available else f"down: {runtime.nlu.last_error}"
            if not runtime.nlu.available:
                status["degraded"].append("rasa: menu, digits and keywords only")
        if runtime.flows.errors:
            status["flows"] = "last edit rejected; serving last good version"
            status["flow_errors"] = runtime.flows.errors
        if runtime.spool is not None:
            status["spooled"] = runtime.spool.pending()
        code = 503 if status["redis"] == "down" else 200
        status["status"] = "degraded" if status["degraded"] else "ok"
        return JSONResponse(status, status_code=code)

    @app.get("/metrics")
    async def metrics():
        body = generate_latest()
        try:
            body += await runtime.metrics.render(runtime.redis)
        except RedisError:
            log.error("redis unavailable while collecting escalation metrics")
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    app.include_router(web_chat_routes(runtime))
    for channel in channels:
        app.include_router(channel.routes())
    app.include_router(flow_pages_routes(runtime))   # /console/flows, /console/bookings (bot/flow_pages.py)
    app.include_router(console_routes(runtime))
    return app
