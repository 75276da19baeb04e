"""Per-organisation service information and weekly counselling slots (config/services.yaml)."""
from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError

log = logging.getLogger("xinyi.services")
CHINA = timezone(timedelta(hours=8))
SERVICES_FILE = Path(__file__).resolve().parent.parent / "config" / "services.yaml"
DAYS = {1: "周一", 2: "周二", 3: "周三", 4: "周四", 5: "周五", 6: "周六", 7: "周日"}
DAYS_EN = {1: "Mon", 2: "Tue", 3: "Wed", 4: "Thu", 5: "Fri", 6: "Sat", 7: "Sun"}


class Services:
    """Reads the file again when it changes (editors change slots without a restart)."""

    def __init__(self, path: Path, orgs=None):
        self.path = Path(path)
        self.orgs = orgs
        self._mtime = None
        self._doc: dict = {}

    def _load(self) -> dict:
        try:
            mtime = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return {}
        if mtime != self._mtime:
            try:
                self._doc = YAML(typ="safe").load(self.path.read_text(encoding="utf-8")) or {}
            except Exception as exc:  # keep the last good version, like the flows
                log.error("config/services.yaml rejected, keeping the last good version: %s", exc)
            self._mtime = mtime
        return self._doc

    def of(self, org_id: str | None) -> dict:
        doc = self._load()
        orgs = doc.get("organisations") or {}
        merged = dict(doc.get("default") or {})
        chain = []
        cur = org_id
        while cur and self.orgs is not None and cur not in chain:
            chain.append(cur)
            cur = self.orgs.get(cur).parent if cur in self.orgs.orgs else None
        for oid in reversed(chain):
            merged.update({k: v for k, v in (orgs.get(oid) or {}).items() if v is not None})
        return merged

    def slots(self, org_id: str | None, now: float, lang: str | None = None, weeks: int = 1) -> list[tuple[str, str]]:
        """(label, value) of the next occurrence of each weekly slot, soonest first; value = ISO start time."""
        today = datetime.fromtimestamp(now, CHINA)
        out = []
        for slot in self.of(org_id).get("slots") or ():
            try:
                day, time = int(slot["day"]), str(slot["time"])
                hh, mm = (int(x) for x in time.split("-")[0].split(":"))
            except (KeyError, ValueError, TypeError):
                log.error("bad slot in config/services.yaml: %r", slot)
                continue
            for week in range(weeks):
                ahead = (day - today.isoweekday()) % 7 + 7 * week
                start = (today + timedelta(days=ahead)).replace(hour=hh, minute=mm, second=0, microsecond=0)
                if start <= today + timedelta(hours=12):   # too soon to arrange: the week after
                    start += timedelta(days=7)
                label = (f"{DAYS_EN[day]} {start:%d %b} {time}" if lang == "en"
                         else f"{DAYS[day]} {time}（{start.month}月{start.day}日）")
                out.append((start, label, start.isoformat(timespec="minutes")))
        out.sort()
        return [(label, value) for _, label, value in out]

    def text(self, org_id: str | None, key: str, lang: str | None) -> str:
        info = self.of(org_id)
        return str(info.get(f"{key}_en") if lang == "en" and info.get(f"{key}_en") else info.get(key, ""))


SLOT_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")


def check_services(path: Path, org_ids: set[str]) -> list[str]:
    """Problems in config/services.yaml as `file:line:column: message`, in words an editor understands."""
    try:
        doc = YAML(typ="rt").load(Path(path).read_text(encoding="utf-8")) or {}
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        return [f"{path}:{mark.line + 1 if mark else 1}:{mark.column + 1 if mark else 1}: "
                f"不是有效的 YAML (not valid YAML): {exc.problem or exc.context}"]
    errors = []

    def at(node, key) -> str:
        try:
            line, col = node.lc.key(key) if isinstance(node, dict) else node.lc.item(key)
            return f"{path}:{line + 1}:{col + 1}"
        except (AttributeError, KeyError, IndexError, TypeError):
            return f"{path}:1:1"

    sections = [("default", doc.get("default") or {}, doc)]
    orgs = doc.get("organisations") or {}
    for oid, section in orgs.items():
        if oid not in org_ids:
            errors.append(f"{at(orgs, oid)}: 没有这个机构 `{oid}`（见 config/organisations.yaml）"
                          f" (unknown organisation)")
        sections.append((oid, section or {}, orgs))
    for name, section, _ in sections:
        slots = section.get("slots") or []
        for i, slot in enumerate(slots):
            where = at(slots, i)
            if not isinstance(slot, dict):
                errors.append(f"{where}: 每个时段写成 {{day: 2, time: \"14:00-15:00\"}} (each slot needs day and time)")
                continue
            if slot.get("day") not in DAYS:
                errors.append(f"{where}: day 要写 1（周一）到 7（周日）(day must be 1–7), 现在是 {slot.get('day')!r}")
            time = str(slot.get("time", ""))
            if not SLOT_TIME.match(time) or time[:5] >= time[6:]:
                errors.append(f"{where}: time 要写成 \"14:00-15:00\"，开始早于结束 (time as HH:MM-HH:MM), 现在是 {time!r}")
    return errors
