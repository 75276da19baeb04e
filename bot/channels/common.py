"""What the push channels (WeChat, Telegram) share: routing with degradation, text limits,
the channel's own few strings in zh/en. No SDK here."""
from __future__ import annotations

import logging

from redis.exceptions import RedisError

from bot.messages import Inbound, Outbound
from escalation.safety import safety_reply

log = logging.getLogger("xinyi.channels")

STRINGS = {
    "zh": {
        "staff_prefix": "【值班人员】",
        "busy": "系统暂时繁忙，你的消息已经收到，稍后会继续回复你。如果情况紧急，请拨打 {emergency} 或 24 小时热线 12356。",
        "help": ("我是「心驿」，工会职工心灵驿站的自助小助手。可以用这些命令：\n"
                 "/menu 主菜单\n/sos 紧急求助与热线\n/screen 心理测评\n/privacy 隐私说明\n"
                 "/delete 删除我的数据\n/help 帮助\n也可以直接打字告诉我你的情况。"),
        "privacy": ("隐私说明：你的身份只以加密的化名保存，对话加密存放，只有工会值班心理辅导员在需要帮助你时"
                    "可以查看，每次查看都有记录。测评结果只有在你同意后才会保存。发送 /delete 可以删除你的数据。"),
        "menu": "菜单",
        "screen": "心理测评",
        "sos": "紧急求助",
        "delete": "删除我的数据",
        "start": "你好",
        "not_registered": "你的 Telegram 账号还没有绑定控制台账号，请联系管理员。",
    },
    "en": {
        "staff_prefix": "[Counsellor] ",
        "busy": ("We are busy right now; your message has been received and we will reply soon. "
                 "If this is an emergency, call {emergency} or the 24-hour line 12356."),
        "help": ("I'm Xinyi, the union's employee wellbeing assistant. Commands:\n"
                 "/menu main menu\n/sos urgent help and hotlines\n/screen self-check questionnaires\n"
                 "/privacy how your data is handled\n/delete delete my data\n/help this help\n"
                 "You can also just write to me."),
        "privacy": ("Privacy: you are known only by an encrypted pseudonym; conversations are encrypted and only "
                    "the union's on-duty counsellors can read them when helping you, and every view is logged. "
                    "Questionnaire results are kept only with your consent. Send /delete to delete your data."),
        "menu": "菜单",          # router inputs stay the router's words
        "screen": "心理测评",
        "sos": "紧急求助",
        "delete": "删除我的数据",
        "start": "你好",
        "not_registered": "Your Telegram account is not linked to a console account; ask an administrator.",
    },
}


def t(lang: str | None, key: str, **kw) -> str:
    return STRINGS.get(lang or "zh", STRINGS["zh"])[key].format(**kw)


async def route(runtime, msg: Inbound) -> list[Outbound]:
    """The router, or — with Redis unreachable — the in-process safety answer and the spool."""
    try:
        return await runtime.router.handle(msg)
    except RedisError:
        log.error("redis unavailable while handling %s message user=%s", msg.channel, msg.user)
        return degraded(runtime, msg)


def degraded(runtime, msg: Inbound) -> list[Outbound]:
    """Never silence for someone in danger: the crisis check is in-process; the message is spooled."""
    assessment = runtime.router.d.assess(msg.text) if msg.text else None
    spooled = runtime.spool.put(msg) if runtime.spool is not None else False
    if assessment is not None and assessment.risk.pages:
        log.error("crisis while redis is down user=%s risk=%s spooled=%s", msg.user, assessment.risk.name, spooled)
        return [Outbound(safety_reply(runtime.orgs, msg.org, assessment.risk), kind="safety")]
    return [Outbound(t(msg.lang, "busy", emergency=runtime.orgs.get(msg.org).emergency), kind="system")]


async def restart_conversation(runtime, user: str, org: str | None = None) -> None:
    """A (re)subscribe or /start: the welcome and consent come again; consent and org are kept."""
    session = await runtime.sessions.load(user)
    session.greeted = False
    session.flow = None
    if org:
        session.org = org
    await runtime.sessions.save(user, session)


def chunks(text: str, limit: int, measure=len) -> list[str]:
    """Split text into pieces within `limit` (by `measure`), preferring line breaks."""
    if measure(text) <= limit:
        return [text]
    out: list[str] = []
    cur = ""
    for line in text.splitlines(keepends=True):
        while measure(line) > limit:           # a single over-long line: hard split
            cut = len(line)
            while measure(line[:cut]) > limit:
                cut = max(1, cut * limit // max(measure(line[:cut]), 1) - 1)
            if cur:
                out.append(cur)
                cur = ""
            out.append(line[:cut])
            line = line[cut:]
        if measure(cur + line) > limit:
            out.append(cur)
            cur = ""
        cur += line
    if cur:
        out.append(cur)
    return [c.strip("\n") for c in out if c.strip()]


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))
