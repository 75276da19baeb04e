"""The on-duty roster (config/roster.yaml) over the organisation tree, in Asia/Shanghai time.

`duty(org, at)` says who is on duty for one team; `route(org, at)` walks up the tree to the
first team with someone on duty (a case goes to its organisation, else to the parent) and
collects the supervisor chain, which is paged when nobody answers — or nobody is on duty.
Service hours (for `medium` callbacks) come from config/organisations.yaml.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from ruamel.yaml import YAML

from escalation.orgs import Orgs

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_TYPES = ("workdays", "restdays", "holidays", "weekdays", "weekends", "all")


def _hm(text: str) -> dt.time:
    h, m = str(text).strip().split(":")
    return dt.time(int(h), int(m))


@dataclass(frozen=True)
class Shift:
    name: str
    days: tuple[str, ...]
    start: dt.time
    end: dt.time
    on_duty: tuple[str, ...]
    backup: tuple[str, ...] = ()
    supervisor: tuple[str, ...] = ()

    @property
    def overnight(self) -> bool:
        return self.end <= self.start


@dataclass(frozen=True)
class Duty:
    """Who is on duty for one team at one moment."""
    org: str
    shifts: tuple[str, ...]
    on_duty: tuple[str, ...]
    backup: tuple[str, ...]
    supervisor: tuple[str, ...]
    until: float  # when the earliest of these shifts ends (epoch seconds)


@dataclass(frozen=True)
class Route:
    """Where a case of `org` goes at one moment."""
    org: str
    team: str | None              # the organisation whose on-duty person is paged; None: nobody anywhere
    duty: Duty | None
    skipped: tuple[str, ...]      # organisations passed over because nobody was on duty there
    supervisors: tuple[str, ...]  # the supervisor chain, nearest first

    @property
    def on_duty(self) -> tuple[str, ...]:
        return self.duty.on_duty if self.duty else ()

    @property
    def backup(self) -> tuple[str, ...]:
        return self.duty.backup if self.duty else ()


@dataclass
class Team:
    org: str
    members: dict[str, str] = field(default_factory=dict)
    supervisors: tuple[str, ...] = ()
    shifts: tuple[Shift, ...] = ()
    overrides: dict[dt.date, tuple[Shift, ...]] = field(default_factory=dict)


def _names(v) -> tuple[str, ...]:
    if v is None:
        return ()
    if isinstance(v, str):
        return (v,)
    return tuple(str(x) for x in v)


def _shift(d: dict, where: str, default_days=("all",)) -> Shift:
    days = _names(d.get("days")) or default_days
    for day in days:
        if day not in DAY_TYPES and day not in WEEKDAYS:
            raise ValueError(f"{where}: unknown days `{day}` (use {', '.join(DAY_TYPES)} or mon…sun)")
    try:
        start, end = _hm(d["start"]), _hm(d["end"])
    except (KeyError, ValueError) as exc:
        raise ValueError(f"{where}: start and end must be HH:MM") from exc
    return Shift(str(d.get("name", "")), days, start, end, _names(d.get("on_duty")), _names(d.get("backup")),
                 _names(d.get("supervisor")))


class Calendar:
    """Day types in the roster's time zone, with holidays and 调休 working days."""

    def __init__(self, tz: str = "Asia/Shanghai", holidays=(), workdays=()):
        self.tz = ZoneInfo(tz)
        self.holidays = {dt.date.fromisoformat(str(d)) for d in holidays}
        self.workdays = {dt.date.fromisoformat(str(d)) for d in workdays}

    def local(self, at: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(at, self.tz)

    def matches(self, day: dt.date, kinds: tuple[str, ...]) -> bool:
        weekend = day.weekday() >= 5
        holiday = day in self.holidays
        working = (not weekend and not holiday) or day in self.workdays
        for k in kinds:
            if (k == "all" or (k == "workdays" and working) or (k == "restdays" and not working)
                    or (k == "holidays" and holiday) or (k == "weekdays" and not weekend)
                    or (k == "weekends" and weekend) or (k in WEEKDAYS and WEEKDAYS[day.weekday()] == k)):
                return True
        return False

    def at(self, day: dt.date, t: dt.time) -> float:
        return dt.datetime.combine(day, t, self.tz).timestamp()

    def windows(self, day: dt.date, start: dt.time, end: dt.time) -> tuple[float, float]:
        """Epoch start/end of a window starting on `day` (past midnight when end <= start)."""
        end_day = day + dt.timedelta(days=1) if end <= start else day
        return self.at(day, start), self.at(end_day, end)


class Roster:
    def __init__(self, orgs: Orgs, teams: dict[str, Team], calendar: Calendar,
                 sla_seconds: dict[str, float] | None = None):
        self.orgs = orgs
        self.teams = teams
        self.calendar = calendar
        self.sla_seconds = sla_seconds or {}
        for oid in teams:
            if oid not in orgs.orgs:
                raise ValueError(f"roster: team `{oid}` is not an organisation in organisations.yaml")

    @classmethod
    def load(cls, path: Path, orgs: Orgs) -> "Roster":
        doc = YAML(typ="safe").load(Path(path).read_text(encoding="utf-8")) or {}
        cal = Calendar(doc.get("timezone", "Asia/Shanghai"), doc.get("holidays") or (), doc.get("workdays") or ())
        teams = {}
        for oid, t in (doc.get("teams") or {}).items():
            t = t or {}
            shifts = tuple(_shift(s, f"roster {oid} shift {i + 1}") for i, s in enumerate(t.get("shifts") or ()))
            overrides = {dt.date.fromisoformat(str(day)): tuple(_shift(s, f"roster {oid} override {day}")
                                                                for s in (lst or ()))
                         for day, lst in (t.get("overrides") or {}).items()}
            teams[oid] = Team(oid, {str(k): str(v) for k, v in (t.get("members") or {}).items()},
                              _names(t.get("supervisors")), shifts, overrides)
        sla = {str(k): float(v) for k, v in (doc.get("sla_seconds") or {}).items()}
        return cls(orgs, teams, cal, sla)

    @classmethod
    def empty(cls, orgs: Orgs) -> "Roster":
        return cls(orgs, {}, Calendar())

    # -- one team ------------------------------------------------------------------------
    def _shifts_of(self, team: Team, day: dt.date) -> tuple[Shift, ...]:
        if day in team.overrides:
            return team.overrides[day]
        return tuple(s for s in team.shifts if self.calendar.matches(day, s.days))

    def _active(self, team: Team, at: float) -> list[tuple[Shift, float]]:
        today = self.calendar.local(at).date()
        out = []
        for day in (today - dt.timedelta(days=1), today):
            for s in self._shifts_of(team, day):
                start, end = self.calendar.windows(day, s.start, s.end)
                if start <= at < end:
                    out.append((s, end))
        return out

    def duty(self, org: str, at: float) -> Duty | None:
        team = self.teams.get(org)
        if team is None:
            return None
        active = [(s, end) for s, end in self._active(team, at) if s.on_duty]
        if not active:
            return None
        uniq = lambda xs: tuple(dict.fromkeys(x for x in xs))  # noqa: E731
        return Duty(org, tuple(s.name for s, _ in active), uniq(p for s, _ in active for p in s.on_duty),
                    uniq(p for s, _ in active for p in s.backup), uniq(p for s, _ in active for p in s.supervisor),
                    min(end for _, end in active))

    def next_shift_start(self, org: str, at: float, days: int = 14) -> float | None:
        """When the next shift with someone on duty starts for this team (None: none within `days`)."""
        team = self.teams.get(org)
        if team is None:
            return None
        today = self.calendar.local(at).date()
        best = None
        for i in range(days + 1):
            day = today + dt.timedelta(days=i)
            for s in self._shifts_of(team, day):
                start, _ = self.calendar.windows(day, s.start, s.end)
                if s.on_duty and start > at and (best is None or start < best):
                    best = start
            if best is not None:
                return best
        return best

    # -- the tree ------------------------------------------------------------------------
    def route(self, org: str, at: float) -> Route:
        chain = self.orgs.chain(org)
        org_id = chain[0].id
        skipped: list[str] = []
        team, duty = None, None
        for o in chain:
            d = self.duty(o.id, at)
            if d is not None:
                team, duty = o.id, d
                break
            skipped.append(o.id)
        supervisors: list[str] = []
        for o in chain:
            d = duty if o.id == team else self.duty(o.id, at)
            t = self.teams.get(o.id)
            for p in (d.supervisor if d else ()) + (t.supervisors if t else ()):
                if p not in supervisors:
                    supervisors.append(p)
        return Route(org_id, team, duty, tuple(skipped), tuple(supervisors))

    def next_shift_in_chain(self, org: str, at: float) -> float | None:
        starts = [s for o in self.orgs.chain(org) if (s := self.next_shift_start(o.id, at)) is not None]
        return min(starts) if starts else None

    def parse_time(self, text: str | None) -> float:
        """'2026-10-01 21:30' or ISO 8601 (roster time zone unless an offset is given); None: now."""
        import time as _time
        if not text:
            return _time.time()
        try:
            d = dt.datetime.fromisoformat(text.strip().replace("T", " "))
        except ValueError as exc:
            raise ValueError(f"cannot read time `{text}`; use e.g. 2026-10-01 21:30") from exc
        if d.tzinfo is None:
            d = d.replace(tzinfo=self.calendar.tz)
        return d.timestamp()

    def tree_order(self) -> list[str]:
        """Organisation ids depth-first from the roots, in file order."""
        out: list[str] = []

        def walk(oid: str) -> None:
            out.append(oid)
            for o in self.orgs.orgs.values():
                if o.parent == oid and o.id not in out:
                    walk(o.id)
        for o in self.orgs.orgs.values():
            if o.parent is None:
                walk(o.id)
        return out

    def member_name(self, username: str) -> str:
        for t in self.teams.values():
            if username in t.members:
                return t.members[username]
        return username

    # -- service hours (organisations.yaml) ---------------------------------------------------
    def _service_windows(self, org: str) -> tuple[tuple[str, str], ...]:
        for o in self.orgs.chain(org):
            if o.service_hours:
                return o.service_hours
        return ()

    def in_service(self, org: str, at: float) -> bool:
        return self.next_service_time(org, at) == at

    def next_service_time(self, org: str, at: float, days: int = 14) -> float:
        """`at` itself when the org's hotline team is in service hours, else when it next opens."""
        windows = self._service_windows(org)
        if not windows:
            return at
        today = self.calendar.local(at).date()
        for i in range(-1, days + 1):
            day = today + dt.timedelta(days=i)
            starts = []
            for kind, ranges in windows:
                if not self.calendar.matches(day, (kind,)):
                    continue
                for rng in str(ranges).split(","):
                    a, b = rng.split("-")
                    start, end = self.calendar.windows(day, _hm(a), _hm(b))
                    if start <= at < end:
                        return at
                    if start > at:
                        starts.append(start)
            if starts:
                return min(starts)
        return at



def format_roster(roster: Roster, at: float, org: str | None = None) -> str:
    """The `xinyi roster show` text: per organisation, who is on duty and where cases go."""
    local = roster.calendar.local(at)
    kind = "工作日" if roster.calendar.matches(local.date(), ("workdays",)) else "休息日"
    if local.date() in roster.calendar.holidays:
        kind = "节假日"
    lines = [f"值班表 · {local:%Y-%m-%d %H:%M} ({roster.calendar.tz.key}, {WEEKDAYS[local.weekday()]}, {kind})"]
    name = roster.member_name
    ids = [org] if org else roster.tree_order()
    for oid in ids:
        o = roster.orgs.get(oid)
        depth = len(roster.orgs.chain(oid)) - 1
        pad = "  " * depth
        duty = roster.duty(oid, at)
        route = roster.route(oid, at)
        head = f"{pad}{o.name} [{oid}{' · ' + o.level if o.level else ''}]"
        if duty:
            lines.append(f"{head}: 值班 {', '.join(f'{name(p)}({p})' for p in duty.on_duty)}"
                         + (f"; 备班 {', '.join(f'{name(p)}({p})' for p in duty.backup)}" if duty.backup else "")
                         + (f"; 主管 {', '.join(f'{name(p)}({p})' for p in duty.supervisor)}" if duty.supervisor else "")
                         + f"  [{' + '.join(duty.shifts)}, 至 {roster.calendar.local(duty.until):%m-%d %H:%M}]")
        elif route.team:
            lines.append(f"{head}: 无人值班 → 转 {roster.orgs.name(route.team)} [{route.team}] "
                         f"值班 {', '.join(f'{name(p)}({p})' for p in route.on_duty)}")
        else:
            lines.append(f"{head}: 无人值班，上级也无人值班 → 呼叫主管 "
                         f"{', '.join(f'{name(p)}({p})' for p in route.supervisors) or '（无）'}")
        if org or not duty:
            nxt = roster.next_shift_start(oid, at)
            if nxt is not None and not duty:
                lines.append(f"{pad}  下一班：{roster.calendar.local(nxt):%m-%d %H:%M}")
        if org:
            lines.append(f"{pad}  主管链：{', '.join(f'{name(p)}({p})' for p in route.supervisors) or '（无）'}")
    return "\n".join(lines)
