"""The staff console: login, the risk-ranked queue with live pages, a case with its conversation,
claim / reply (canned replies) / private notes / transfer / release / close (with 随访), and charts.

Roles: `staff` act on cases they claimed; `supervisor` may act on any case they can see
(take over, reassign, close) and see the charts; `admin` sees every organisation.
Everyone sees only their organisation's subtree; every transcript view is audited.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from ruamel.yaml import YAML

from core import keys
from escalation.cases import DISPOSITIONS, Case, TransitionRefused
from escalation.console.auth import COOKIE, ConsoleAuth, ConsoleSession
from escalation.orgs import subtree
from escalation.paging import Page

log = logging.getLogger("xinyi.console")
templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
RISK_LABELS = {"imminent": "紧急", "high": "高危", "medium": "关注", "low": "一般", "none": "请求"}
DISPOSITION_LABELS = {"resolved": "已解决", "referred": "已转介", "emergency": "已报警/急救 (110/120)",
                      "follow_up": "安排随访", "false_alarm": "误报"}
MAX_REPLY_CHARS = 2000
MAX_NOTE_CHARS = 4000
FOLLOW_UP_DAYS = (1, 3, 7, 14, 30)
CANNED_FILE = Path(__file__).with_name("canned_replies.yaml")
CHART_BUCKETS = ((5, "≤5秒"), (15, "≤15秒"), (30, "≤30秒"), (60, "≤1分"), (180, "≤3分"), (300, "≤5分"),
                 (600, "≤10分"), (float("inf"), ">10分"))


def load_canned(path: Path = CANNED_FILE) -> list[dict]:
    try:
        items = YAML(typ="safe").load(path.read_text(encoding="utf-8")) or []
        return [{"label": str(i["label"]), "text": str(i["text"])} for i in items]
    except (OSError, KeyError, TypeError):
        log.error("canned replies could not be read from %s", path)
        return []


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))]


def case_json(c: Case, orgs=None) -> dict:
    return {"id": c.id, "risk": c.risk.name, "risk_label": RISK_LABELS[c.risk.name], "category": c.category,
            "status": c.status, "org": c.org, "org_name": orgs.name(c.org) if orgs else c.org,
            "channel": c.channel, "created_at": c.created_at, "paged_at": c.paged_at,
            "claimed_by": c.claimed_by, "messages": c.messages, "signals": c.signals,
            "disposition": c.disposition}


def console_routes(runtime) -> APIRouter:
    api = APIRouter(prefix="/console")
    auth = ConsoleAuth(runtime.redis, runtime.settings.console_secret.get_secret_value())

    async def who(request: Request):
        session = await auth.current(request.cookies.get(COOKIE))
        staff = await runtime.staff.get(session.username) if session else None
        return session, staff

    esc = runtime.escalation
    canned = load_canned()

    def scope(staff) -> set[str] | None:
        """Organisations this person sees (None: all)."""
        return None if staff.role == "admin" else subtree(runtime.orgs, staff.org or runtime.orgs.default)

    def visible(staff, case: Case) -> bool:
        orgs = scope(staff)
        return orgs is None or case.org in orgs

    def sees_org(staff, org: str) -> bool:
        orgs = scope(staff)
        return orgs is None or org in orgs

    def may_act(staff, case: Case) -> bool:
        return staff.role in ("supervisor", "admin") or case.claimed_by == staff.username

    async def body(request: Request) -> dict | None:
        try:
            data = await request.json()
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def bad_request():
        return JSONResponse({"error": "请求格式不正确"}, status_code=400)

    async def colleagues(case: Case, exclude: str) -> list[dict]:
        out = []
        for raw in sorted(await runtime.redis.smembers(keys.STAFF_INDEX)):
            s = await runtime.staff.get(raw.decode())
            if s is not None and s.username != exclude and visible(s, case):
                out.append({"username": s.username, "name": s.name, "role": s.role, "org": s.org})
        return out

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

    async def acting(request: Request, case_id: str):
        """A signed-in, CSRF-checked action on a visible case with a JSON object body:
        (staff, case, data, None) or (None, None, None, the error response)."""
        _, staff, case, err = await guarded(request, case_id, csrf=True)
        if err:
            return None, None, None, err
        data = await body(request)
        if data is None:
            return None, None, None, bad_request()
        return staff, case, data, None

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
        now = runtime.clock.now()
        out = {"cases": [case_json(c, runtime.orgs) for c in cases], "now": now}
        after = request.query_params.get("pages_after", "")
        if after and not all(p.isdigit() for p in after.split("-", 1)):
            after = ""
        if after:
            pages = []
            for entry_id, f in await runtime.redis.xrange(keys.PAGES, min=f"({after}", count=200):
                p = Page.from_json(f[b"page"])
                after = entry_id.decode()
                if staff.username in p.targets or (not p.targets and sees_org(staff, p.team)):
                    pages.append({"case": p.case_id, "risk": p.risk, "risk_label": p.risk_label, "tier": p.tier,
                                  "tier_label": p.tier_label, "org_name": p.org_name, "team_name": p.team_name,
                                  "at": p.at, "mine": staff.username in p.targets})
            out["pages"] = pages
        else:
            last = await runtime.redis.xrevrange(keys.PAGES, count=1)
            after = last[0][0].decode() if last else "0-0"
            out["pages"] = []
        out["pages_after"] = after
        out["failures"] = [
            {"channel": f["channel"], "case": f["case"], "attempt": f["attempt"], "at": float(f["at"]),
             "next": f["next"], "reason": f["reason"]}
            for f in await esc.dispatcher.recent_failures(now - 900) if sees_org(staff, f.get("team", ""))
            or sees_org(staff, f.get("org", ""))]
        route = esc.roster.route(staff.org or runtime.orgs.default, now)
        name = esc.roster.member_name
        out["duty"] = {"org": runtime.orgs.name(route.org), "team": runtime.orgs.name(route.team) if route.team else None,
                       "on_duty": [name(p) for p in route.on_duty], "backup": [name(p) for p in route.backup],
                       "supervisors": [name(p) for p in route.supervisors]}
        out["followups"] = [f.public() | {"org_name": runtime.orgs.name(f.org)}
                            for f in await esc.followups.upcoming(50) if sees_org(staff, f.org)][:20]
        return out

    @api.get("/case/{case_id}", response_class=HTMLResponse)
    async def case_page(request: Request, case_id: str):
        session, staff = await who(request)
        if staff is None:
            return RedirectResponse("/console/login", status_code=303)
        case = await runtime.cases.get(case_id)
        if case is None or not visible(staff, case):
            return HTMLResponse("没有这个个案", status_code=404)
        return templates.TemplateResponse(request, "case.html", {
            "staff": staff, "csrf": session.csrf, "case": case_json(case, runtime.orgs),
            "dispositions": DISPOSITION_LABELS, "canned": canned, "follow_up_days": FOLLOW_UP_DAYS,
            "colleagues": await colleagues(case, staff.username),
            "orgs": [{"id": o.id, "name": o.name, "level": o.level} for o in runtime.orgs.orgs.values()
                     if o.id != case.org]})

    @api.get("/api/case/{case_id}")
    async def case_detail(request: Request, case_id: str, after: str = "-"):
        _, staff, case, err = await guarded(request, case_id, csrf=False)
        if err:
            return err
        if after in ("-", "0"):
            await audit(staff, case_id, "transcript_view")
        entries = await runtime.transcript.read(case.user, after=after)
        notes = [{"id": i.decode(), "staff": f[b"staff"].decode(), "at": float(f[b"at"]),
                  "text": runtime.sealer.open(f[b"text"].decode())}
                 for i, f in await runtime.redis.xrange(keys.case_notes(case_id))]
        return {"case": case_json(case, runtime.orgs), "history": await runtime.cases.history(case_id),
                "notes": notes, "may_act": may_act(staff, case), "me": staff.username,
                "messages": [{"id": e.id, "role": e.role, "text": e.text, "at": e.at, "risk": e.risk}
                             for e in entries]}

    @api.post("/api/case/{case_id}/claim")
    async def claim(request: Request, case_id: str):
        _, staff, case, err = await guarded(request, case_id, csrf=True)
        if err:
            return err
        now = runtime.clock.now()
        try:
            await runtime.cases.claim(case_id, staff.username, now)
        except TransitionRefused:
            return JSONResponse({"error": f"个案已被 {case.claimed_by or '他人'} 接手或已关闭"}, status_code=409)
        await runtime.redis.zrem(keys.SLA_DUE, case_id)
        wait = max(0.0, now - case.created_at)
        runtime.metrics.time_to_claim.labels(case.risk.name).observe(wait)
        await runtime.redis.xadd(keys.TIMINGS, {"kind": "claim", "seconds": repr(wait), "org": case.org,
                                                "risk": case.risk.name, "at": repr(now)}, maxlen=50_000, approximate=True)
        log.info("case claimed case=%s staff=%s after %.1fs", case_id, staff.username, wait)
        return {"ok": True}

    @api.post("/api/case/{case_id}/release")
    async def release(request: Request, case_id: str):
        _, staff, case, err = await guarded(request, case_id, csrf=True)
        if err:
            return err
        if case.status != "claimed" or not may_act(staff, case):
            return JSONResponse({"error": "只能放回自己接手的个案"}, status_code=409)
        await runtime.cases.release(case_id, staff.username, runtime.clock.now())
        fresh = await runtime.cases.get(case_id)
        if fresh.risk.pages:
            await esc.escalator.released(fresh)
        log.info("case released case=%s staff=%s", case_id, staff.username)
        return {"ok": True}

    @api.post("/api/case/{case_id}/note")
    async def note(request: Request, case_id: str):
        staff, case, data, err = await acting(request, case_id)
        if err:
            return err
        text = str(data.get("text", "")).strip()
        if not text or len(text) > MAX_NOTE_CHARS:
            return JSONResponse({"error": f"备注不能为空，且不超过 {MAX_NOTE_CHARS} 字"}, status_code=400)
        now = runtime.clock.now()
        await runtime.redis.xadd(keys.case_notes(case_id), {"staff": staff.username, "at": repr(now),
                                                            "text": runtime.sealer.seal(text)})
        await runtime.cases.record(case_id, staff.username, "note", now)
        return {"ok": True}

    @api.post("/api/case/{case_id}/transfer")
    async def transfer(request: Request, case_id: str):
        staff, case, data, err = await acting(request, case_id)
        if err:
            return err
        to_staff, to_org = str(data.get("to_staff") or ""), str(data.get("to_org") or "")
        supervisor = staff.role in ("supervisor", "admin")
        now = runtime.clock.now()
        try:
            if to_staff:
                target = await runtime.staff.get(to_staff)
                if target is None or not visible(target, case) or to_staff == case.claimed_by:
                    return JSONResponse({"error": "这位同事不能接收这个个案"}, status_code=400)
                await runtime.cases.transfer_to_staff(case_id, staff.username, to_staff, now, supervisor)
                await esc.escalator.transferred_to_staff(await runtime.cases.get(case_id), to_staff)
            elif to_org:
                if not runtime.orgs.known(to_org) or to_org == case.org:
                    return JSONResponse({"error": "请选择另一个机构"}, status_code=400)
                await runtime.cases.transfer_to_org(case_id, staff.username, to_org, now, supervisor)
                moved = await runtime.cases.get(case_id)
                if moved.risk.pages:
                    await esc.escalator.transferred_to_org(moved, staff.username)
            else:
                return JSONResponse({"error": "请选择转交的同事或机构"}, status_code=400)
        except TransitionRefused as exc:
            msg = "只能转交自己接手的个案" if "not_yours" in str(exc) else "个案状态已变化，不能转交"
            return JSONResponse({"error": msg}, status_code=409)
        log.info("case transferred case=%s staff=%s to=%s", case_id, staff.username, "staff" if to_staff else to_org)
        return {"ok": True}

    @api.post("/api/case/{case_id}/reply")
    async def reply(request: Request, case_id: str):
        staff, case, data, err = await acting(request, case_id)
        if err:
            return err
        if case.status != "claimed" or case.claimed_by != staff.username:
            return JSONResponse({"error": "请先接手这个个案再回复"}, status_code=409)
        text = str(data.get("text", "")).strip()
        if not text or len(text) > MAX_REPLY_CHARS:
            return JSONResponse({"error": f"回复不能为空，且不超过 {MAX_REPLY_CHARS} 字"}, status_code=400)
        entry = await runtime.relay.to_user(case.user, case.channel, text, runtime.clock.now(), case_id)
        await runtime.cases.record(case_id, staff.username, "replied", runtime.clock.now())
        return {"ok": True, "id": entry}

    @api.post("/api/case/{case_id}/close")
    async def close(request: Request, case_id: str):
        staff, case, data, err = await acting(request, case_id)
        if err:
            return err
        disposition = str(data.get("disposition", ""))
        if disposition not in DISPOSITIONS:
            return JSONResponse({"error": "请选择处置结果"}, status_code=400)
        if case.status == "closed":
            return JSONResponse({"error": "个案已关闭"}, status_code=409)
        if not may_act(staff, case):
            return JSONResponse({"error": "请先接手这个个案再关闭（主管可直接关闭）"}, status_code=403)
        days = None
        if disposition == "follow_up":
            try:
                days = float(data.get("follow_up_days", 7))
            except (TypeError, ValueError):
                return bad_request()
            if not 0 < days <= 90:
                return JSONResponse({"error": "随访时间应在 90 天以内"}, status_code=400)
        now = runtime.clock.now()
        try:
            await runtime.cases.close(case_id, staff.username, disposition, now)
        except TransitionRefused:
            return JSONResponse({"error": "个案已关闭"}, status_code=409)
        await runtime.redis.zrem(keys.SLA_DUE, case_id)
        result = {"ok": True}
        if days is not None:
            result["follow_up"] = await esc.followups.schedule(
                case.user, now + days * 86400, "check_in", case_id=case_id, org=case.org, channel=case.channel,
                staff=staff.username, note=str(data.get("follow_up_note", ""))[:MAX_NOTE_CHARS])
        log.info("case closed case=%s staff=%s disposition=%s", case_id, staff.username, disposition)
        return result

    @api.get("/charts", response_class=HTMLResponse)
    async def charts_page(request: Request):
        session, staff = await who(request)
        if staff is None:
            return RedirectResponse("/console/login", status_code=303)
        if staff.role not in ("supervisor", "admin"):
            return HTMLResponse("图表仅对主管和管理员开放", status_code=403)
        return templates.TemplateResponse(request, "charts.html", {"staff": staff, "csrf": session.csrf})

    @api.get("/api/stats")
    async def stats(request: Request, hours: float = 24):
        _, staff = await who(request)
        if staff is None:
            return JSONResponse({"error": "请先登录"}, status_code=401)
        if staff.role not in ("supervisor", "admin"):
            return JSONResponse({"error": "仅对主管和管理员开放"}, status_code=403)
        now = runtime.clock.now()
        since = now - max(0.1, min(hours, 24 * 90)) * 3600
        samples: dict[str, list[float]] = {"page": [], "claim": []}
        for _, f in await runtime.redis.xrevrange(keys.TIMINGS, count=50_000):
            at = float(f[b"at"])
            if at < since:
                break
            if sees_org(staff, f[b"org"].decode()):
                samples.setdefault(f[b"kind"].decode(), []).append(float(f[b"seconds"]))

        def histogram(values):
            counts = [0] * len(CHART_BUCKETS)
            for v in values:
                counts[next(i for i, (edge, _) in enumerate(CHART_BUCKETS) if v <= edge)] += 1
            return {"labels": [label for _, label in CHART_BUCKETS], "counts": counts, "n": len(values),
                    "p50": percentile(values, 0.5), "p90": percentile(values, 0.9)}

        open_by_level = {k: 0 for k in ("imminent", "high", "medium", "low", "none")}
        for c in await runtime.cases.queue(limit=5000):
            if visible(staff, c):
                open_by_level[c.risk.name] += 1
        return {"hours": hours, "time_to_page": histogram(samples["page"]),
                "time_to_claim": histogram(samples["claim"]),
                "open_by_level": [{"level": k, "label": RISK_LABELS[k], "count": v} for k, v in open_by_level.items()]}

    return api
