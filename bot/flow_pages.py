"""Console pages of the conversation side: flow diagrams for editors, booking requests for staff.

Mounted by bot/app.py under /console/flows and /console/bookings; the login check is the
console's own (escalation.console.auth.ConsoleAuth), and pages extend the console's base.html.
"""
from __future__ import annotations

import time
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, FileSystemLoader

from bot.userdata import BOOKING_STATUSES, UserData
from core import keys
from escalation.console.auth import COOKIE, ConsoleAuth
from escalation.orgs import subtree
from flows.diagram import svg
from flows.loader import reachable_steps

HERE = Path(__file__).parent
CONSOLE_TEMPLATES = HERE.parent / "escalation" / "console" / "templates"
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.loader = ChoiceLoader([FileSystemLoader(str(HERE / "templates")), FileSystemLoader(str(CONSOLE_TEMPLATES))])


def flow_pages_routes(runtime) -> APIRouter:
    api = APIRouter(prefix="/console")
    auth = ConsoleAuth(runtime.redis, runtime.settings.console_secret.get_secret_value())
    userdata = UserData(runtime.redis, runtime.sealer)

    async def who(request: Request):
        session = await auth.current(request.cookies.get(COOKIE))
        staff = await runtime.staff.get(session.username) if session else None
        return session, staff

    def sees(staff, org: str) -> bool:
        return staff.role == "admin" or org in subtree(runtime.orgs, staff.org or runtime.orgs.default)

    @api.get("/flows", response_class=HTMLResponse)
    async def flows_page(request: Request):
        session, staff = await who(request)
        if staff is None:
            return RedirectResponse("/console/login", status_code=303)
        engine = runtime.flows.engine
        flows = sorted(engine.flows.values(), key=lambda f: f.id)
        return templates.TemplateResponse(request, "flows.html", {
            "staff": staff, "csrf": session.csrf, "flows": flows, "errors": runtime.flows.errors,
            "loaded_at": runtime.flows.loaded_at})

    @api.get("/flows/{flow_id}", response_class=HTMLResponse)
    async def flow_page(request: Request, flow_id: str):
        session, staff = await who(request)
        if staff is None:
            return RedirectResponse("/console/login", status_code=303)
        flow = runtime.flows.engine.flows.get(flow_id)
        if flow is None:
            return HTMLResponse("没有这个流程", status_code=404)
        return templates.TemplateResponse(request, "flow.html", {
            "staff": staff, "csrf": session.csrf, "flow": flow, "drawing": svg(flow),
            "reachable": reachable_steps(flow), "errors": runtime.flows.errors})

    @api.get("/flows/{flow_id}.svg")
    async def flow_svg(request: Request, flow_id: str):
        _, staff = await who(request)
        if staff is None:
            return JSONResponse({"error": "请先登录"}, status_code=401)
        flow = runtime.flows.engine.flows.get(flow_id)
        if flow is None:
            return JSONResponse({"error": "没有这个流程"}, status_code=404)
        return HTMLResponse(svg(flow), media_type="image/svg+xml")

    async def visible_bookings(staff):
        return [b for b in await userdata.bookings() if sees(staff, b.org)]

    @api.get("/bookings", response_class=HTMLResponse)
    async def bookings_page(request: Request):
        session, staff = await who(request)
        if staff is None:
            return RedirectResponse("/console/login", status_code=303)
        bookings = await visible_bookings(staff)
        await runtime.redis.xadd(keys.AUDIT, {"at": repr(time.time()), "staff": staff.username, "case": "",
                                              "what": "bookings_view"})
        return templates.TemplateResponse(request, "bookings.html", {
            "staff": staff, "csrf": session.csrf, "bookings": [b.public() for b in bookings],
            "statuses": BOOKING_STATUSES, "orgs": runtime.orgs})

    @api.get("/api/bookings")
    async def bookings_json(request: Request):
        _, staff = await who(request)
        if staff is None:
            return JSONResponse({"error": "请先登录"}, status_code=401)
        return {"bookings": [b.public() for b in await visible_bookings(staff)]}

    @api.post("/api/bookings/{booking_id}/status")
    async def booking_status(request: Request, booking_id: str):
        session, staff = await who(request)
        if staff is None:
            return JSONResponse({"error": "请先登录"}, status_code=401)
        if not auth.csrf_ok(session, request.headers.get("x-csrf-token")):
            return JSONResponse({"error": "CSRF 校验失败，请刷新页面"}, status_code=403)
        booking = await userdata.booking(booking_id)
        if booking is None or not sees(staff, booking.org):
            return JSONResponse({"error": "没有这个预约"}, status_code=404)
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "请求格式不正确"}, status_code=400)
        status = str(body.get("status", ""))
        if status not in BOOKING_STATUSES:
            return JSONResponse({"error": "状态不正确"}, status_code=400)
        await userdata.set_booking_status(booking_id, status, staff.username)
        message = str(body.get("message", "")).strip()[:1000]
        if message:   # tell the employee in their own chat (contact preference 「在这里回复我」)
            await runtime.relay.to_user(booking.user, booking.channel, message, runtime.clock.now())
        return {"ok": True}

    return api
