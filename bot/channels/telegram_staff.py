"""The hotline staff's Telegram group: case notifications with a 接手 (claim) button.

`TelegramStaffNotifier` is a paging channel (escalation.paging.Notifier: `name` and
`async notify(page)`): it posts risk, organisation and the console link — never message
text, signals or user ids — to the staff group (XINYI_TELEGRAM_STAFF_CHAT_ID). Pressing
接手 claims the case through CaseStore.claim as the console user the Telegram account is
mapped to (XINYI_TELEGRAM_STAFF = {"<telegram user id>": "<console username>"}), within
that user's organisations, exactly as the console's claim button would.
"""
from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.channels.common import t
from escalation.cases import TransitionRefused
from escalation.orgs import subtree

log = logging.getLogger("xinyi.telegram.staff")
RISK_LABELS = {"imminent": "紧急", "high": "高危", "medium": "关注", "low": "一般", "none": "请求"}
CLAIM = "claim:"


def notification_text(item, base_url: str, orgs) -> str:
    """A Page (escalation.paging) already knows its text; a Case gets the same shape here."""
    if callable(getattr(item, "text", None)):
        return item.text()
    risk = item.risk.name if hasattr(item.risk, "name") else str(item.risk)
    return (f"【心驿·{RISK_LABELS.get(risk, risk)}】新个案\n个案 {item.id} · {orgs.name(item.org)}\n"
            f"请登录值班台处理：{base_url}/console/case/{item.id}")


class TelegramStaffNotifier:
    name = "telegram"

    def __init__(self, channel, chat_id: int | None = None):
        self.channel = channel
        self.chat_id = chat_id if chat_id is not None else channel.staff_chat_id
        if self.chat_id is None:
            raise ValueError("XINYI_TELEGRAM_STAFF_CHAT_ID is not set")

    async def notify(self, page) -> None:
        """Post the notification; raises on failure so the pager retries."""
        rt = self.channel.rt
        case_id = getattr(page, "case_id", None) or page.id
        await self.channel.wait_ready(timeout=10)
        text = notification_text(page, rt.settings.base_url, rt.orgs)
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("接手 Claim", callback_data=f"{CLAIM}{case_id}")]])
        await self.channel.bot.send_message(self.chat_id, text, reply_markup=markup)
        log.info("telegram: staff group notified case=%s", case_id)


class StaffDesk:
    """Callbacks from the staff group: the claim button."""

    def __init__(self, runtime, channel):
        self.rt = runtime
        self.channel = channel
        self.mapping = {str(k): v for k, v in (runtime.settings.telegram_staff or {}).items()}

    async def on_callback(self, q) -> None:
        data = q.data or ""
        if not data.startswith(CLAIM):
            await q.answer()
            return
        case_id = data[len(CLAIM):]
        username = self.mapping.get(str(q.from_user.id)) if q.from_user else None
        staff = await self.rt.staff.get(username) if username else None
        if staff is None:
            log.warning("telegram: claim pressed by an unmapped Telegram account case=%s", case_id)
            await q.answer(t("zh", "not_registered"), show_alert=True)
            return
        case = await self.rt.cases.get(case_id)
        visible = case is not None and (staff.role == "admin" or
                                        case.org in subtree(self.rt.orgs, staff.org or self.rt.orgs.default))
        if not visible:
            await q.answer("没有这个个案，或不在你的组织范围内。", show_alert=True)
            return
        try:
            await self.rt.cases.claim(case_id, staff.username, self.rt.clock.now())
        except TransitionRefused:
            await q.answer(f"个案已被 {case.claimed_by or '他人'} 接手或已关闭。", show_alert=True)
            return
        log.info("case claimed via telegram case=%s staff=%s", case_id, staff.username)
        await q.answer("已接手，请在值班台回复。")
        original = q.message.text if q.message is not None and q.message.text else f"个案 {case_id}"
        try:
            await q.edit_message_text(f"{original}\n✅ 已由 {staff.name or staff.username} 接手", reply_markup=None)
        except Exception as exc:   # the claim stands even if the group message cannot be edited
            log.warning("telegram: could not mark the notification claimed (%s)", type(exc).__name__)
