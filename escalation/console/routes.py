"""The staff console: login, the risk-ranked queue, a case with its conversation, claim/reply/close."""
from __future__ import annotations

import logging
import time
from pathlib import Path

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from core import keys
from escalation.cases import DISPOSITIONS, Case, TransitionRefused
from escalation.console.auth import COOKIE, ConsoleAuth, ConsoleSession
from escalation.orgs import subtree

log = logging.getLogger("xinyi.console")
templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
RISK_LABELS = {"imminent": "紧急", "high": "高危", "medium": "关注", "low": "一般", "none": "请求"}
DISPOSITION_LABELS = {"resolved": "已解决", "referred": "已转介", "emergency": "已报警/急救 (110/120)",
                      "follow_up": "安排随访", "false_alarm": "误报"}
MAX_REPLY_CHARS = 2000


def case_json(c: Case) -> dict:
    return {"id": c.id, "risk": c.risk.name, "risk_label": RISK_LABELS[c.risk.name], "category": c.category,
            "status": c.status, "org": c.org, "channel": c.channel, "created_at": c.created_at,
            "claimed_by": c.claimed_by, "messages": c.messages, "signals": c.signals}


def console_routes(runtime) -> APIRouter:
    api = APIRouter(prefix="/console")
    auth = ConsoleAuth(runtime.redis, runtime.settings.console_secret.get_secret_value())

    async def who(request: Request):
        session = await auth.current(request.cookies.get(COOKIE))
        staff = await runtime.staff.get(session.username) if session else None
        return session, staff

    def visible(staff, case: Case) -> bool:
        return staff.role == "admin" or case.org in subtree(runtime.orgs, staff.org or runtime.orgs.default)

    async def guarded(request: Request, case_id: str, csrf: bool):
        session, staff = await who(request)
        if staff is None:
            return None, None, None, JSONResponse({"error": "请先登录"}, status_code=401)
        if csrf and not auth.csrf_ok(session, request.headers.get("x-csrf-token")):
            return None, None, None, JSONResponse({"error": "CSRF 校验失败，请刷新页面"}, status_code=403)
        case = await runtime.cases.get(case_id)
        if case is None or not visible(staff, case):
            return None, None, None, JSONResponse({"error": "没有这个个案"}, status_code=404)
        return session, staff, case, None

    async def audit(staff, case_id: str, what: str) -> None:
        await runtime.redis.xadd(keys.AUDIT, {"at": repr(time.time()), "staff": staff.username,
                                              "case": case_id, "what": what})

    @api.get("/login", response_class=HTMLResponse)
    async def login_page(request: Request):
        return templates.TemplateResponse(request, "login.html", {"error": ""})

    @api.post("/login")
    async def login(request: Request, username: str = Form(..., max_length=64), password: str = Form(..., max_length=256)):
        staff = await runtime.staff.verify(username, password)
        if staff is None:
            log.warning("console login failed")
            return templates.TemplateResponse(request, "login.html", {"error": "用户名或密码不正确"}, status_code=401)
        cookie, _ = await auth.start(staff.username)
        resp = RedirectResponse("/console", status_code=303)
        resp.set_cookie(COOKIE, cookie, httponly=True, samesite="strict", max_age=8 * 3600)
        log.info("console login staff=%s", staff.username)
        return resp

    @api.post("/logout")
    async def logout(request: Request):
        session, _ = await who(request)
        if session:
            await auth.end(session)
        resp = RedirectResponse("/console/login", status_code=303)
        resp.delete_cookie(COOKIE)
        return resp

    @api.get("", response_class=HTMLResponse)
    async def queue_page(request: Request):
        session, staff = await who(request)
        if staff is None:
            return RedirectResponse("/console/login", status_code=303)
        return templates.TemplateResponse(request, "queue.html", {"staff": staff, "csrf": session.csrf})

    @api.get("/api/queue")
    async def queue(request: Request):
        _, staff = await who(request)
        if staff is None:
            return JSONResponse({"error": "请先登录"}, status_code=401)
        cases = [c for c in await runtime.cases.queue() if visible(staff, c)]
        return {"cases": [case_json(c) for c in cases], "now": time.time()}

    @api.get("/case/{case_id}", response_class=HTMLResponse)
    async def case_page(request: Request, case_id: str):
        session, staff = await who(request)
        if staff is None:
            return RedirectResponse("/console/login", status_code=303)
        case = await runtime.cases.get(case_id)
        if case is None or not visible(staff, case):
            return HTMLResponse("没有这个个案", status_code=404)
        return templates.TemplateResponse(request, "case.html", {
            "staff": staff, "csrf": session.csrf, "case": case_json(case),
            "dispositions": DISPOSITION_LABELS})

    @api.get("/api/case/{case_id}")
    async def case_detail(request: Request, case_id: str, after: str = "-"):
        _, staff, case, err = await guarded(request, case_id, csrf=False)
        if err:
            return err
        if after in ("-", "0"):
            await audit(staff, case_id, "transcript_view")
        entries = await runtime.transcript.read(case.user, after=after)
        return {"case": case_json(case), "history": await runtime.cases.history(case_id),
                "messages": [{"id": e.id, "role": e.role, "text": e.text, "at": e.at, "risk": e.risk}
                             for e in entries]}

    @api.post("/api/case/{case_id}/claim")
    async def claim(request: Request, case_id: str):
        _, staff, case, err = await guarded(request, case_id, csrf=True)
        if err:
            return err
        try:
            await runtime.cases.claim(case_id, staff.username, runtime.clock.now())
        except TransitionRefused:
            return JSONResponse({"error": f"个案已被 {case.claimed_by or '他人'} 接手或已关闭"}, status_code=409)
        log.info("case claimed case=%s staff=%s", case_id, staff.username)
        return {"ok": True}

    @api.post("/api/case/{case_id}/reply")
    async def reply(request: Request, case_id: str):
        _, staff, case, err = await guarded(request, case_id, csrf=True)
        if err:
            return err
        if case.status != "claimed" or case.claimed_by != staff.username:
            return JSONResponse({"error": "请先接手这个个案再回复"}, status_code=409)
        try:
            text = str((await request.json()).get("text", "")).strip()
        except ValueError:
            return JSONResponse({"error": "请求格式不正确"}, status_code=400)
        if not text or len(text) > MAX_REPLY_CHARS:
            return JSONResponse({"error": f"回复不能为空，且不超过 {MAX_REPLY_CHARS} 字"}, status_code=400)
        entry = await runtime.relay.to_user(case.user, case.channel, text, runtime.clock.now(), case_id)
        await runtime.cases.record(case_id, staff.username, "replied", runtime.clock.now())
        return {"ok": True, "id": entry}

    @api.post("/api/case/{case_id}/close")
    async def close(request: Request, case_id: str):
        _, staff, case, err = await guarded(request, case_id, csrf=True)
        if err:
            return err
        try:
            disposition = str((await request.json()).get("disposition", ""))
        except ValueError:
            return JSONResponse({"error": "请求格式不正确"}, status_code=400)
        if disposition not in DISPOSITIONS:
            return JSONResponse({"error": "请选择处置结果"}, status_code=400)
        try:
            await runtime.cases.close(case_id, staff.username, disposition, runtime.clock.now())
        except TransitionRefused:
            return JSONResponse({"error": "个案已关闭"}, status_code=409)
        log.info("case closed case=%s staff=%s disposition=%s", case_id, staff.username, disposition)
        return {"ok": True}

    return api
