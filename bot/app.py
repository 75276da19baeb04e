"""The one ASGI app: web chat, staff console, /healthz and /metrics (channels mount here too)."""
from __future__ import annotations

import asyncio
import logging
import os
import socket
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.exceptions import RedisError

from bot.channels.web import web_chat_routes
from escalation.console.routes import console_routes
from escalation.pager import Pager

log = logging.getLogger("xinyi.app")


async def _background(runtime, stop: asyncio.Event) -> None:
    """Paging and spool replay; every piece of state is in Redis, so N copies can run."""
    pager = Pager(runtime.redis, runtime.cases, notifiers=[], consumer=f"{socket.gethostname()}-{os.getpid()}",
                  clock=runtime.clock)
    while not stop.is_set():
        try:
            if runtime.spool is not None:
                await runtime.spool.replay(runtime.router.handle)
            await pager.run_once(block_ms=500)
        except asyncio.CancelledError:
            raise
        except RedisError:
            log.error("redis unavailable; background work retries in 1 s")
            await asyncio.sleep(1)
        except Exception:
            log.exception("background loop error")
            await asyncio.sleep(1)


def create_app(runtime, background: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        stop = asyncio.Event()
        task = asyncio.create_task(_background(runtime, stop)) if background else None
        yield
        stop.set()
        if task:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await runtime.close()

    app = FastAPI(title="Xinyi", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
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
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    app.include_router(web_chat_routes(runtime))
    app.include_router(console_routes(runtime))
    return app
