"""What a channel answers when Redis is unreachable: never silence for someone in danger.

The crisis assessment is in-process, so a crisis still gets the safety reply; the message
is spooled to disk (sealed) and replayed into a case when Redis returns.
"""
from __future__ import annotations

import logging

from fastapi.responses import JSONResponse

from bot.messages import Inbound
from escalation.safety import safety_reply

log = logging.getLogger("xinyi.degraded")


def degraded_reply(runtime, msg: Inbound) -> JSONResponse:
    assessment = runtime.router.d.assess(msg.text) if msg.text else None
    spooled = runtime.spool.put(msg) if runtime.spool is not None else False
    if assessment is not None and assessment.risk.pages:
        log.error("crisis while redis is down user=%s risk=%s spooled=%s", msg.user, assessment.risk.name, spooled)
        text = safety_reply(runtime.orgs, msg.org, assessment.risk)
        return JSONResponse({"replies": [{"text": text, "kind": "safety", "options": []}], "degraded": True})
    text = ("系统暂时繁忙，你的消息已经收到，稍后会继续回复你。"
            f"如果情况紧急，请拨打 {runtime.orgs.get(msg.org).emergency} 或 24 小时热线 12356。")
    return JSONResponse({"replies": [{"text": text, "kind": "system", "options": []}], "degraded": True},
                        status_code=503)
