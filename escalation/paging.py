"""Pages and the channels that carry them, with duplicate suppression and durable retries.

A `Page` carries no message text and no user id: risk, organisation, tier and a console
link only. Each channel (`Notifier`) gets every page; one failing channel never stops the
others. A failed delivery is recorded (stream + metric, shown in the console) and retried
with backoff from a Redis sorted set, so a worker restart does not lose it. A channel that
delivered one round of a case is marked in Redis, so a re-read event never pages twice.
"""
from __future__ import annotations

import asyncio
import json
import logging
import secrets
from dataclasses import asdict, dataclass, field
from typing import Protocol, runtime_checkable

import httpx
from redis.asyncio import Redis

from core import keys
from nlu.risk import Risk

log = logging.getLogger("xinyi.paging")

RISK_LABELS = {"imminent": "紧急", "high": "高危", "medium": "关注", "low": "一般", "none": "请求"}
TIER_LABELS = {
    "on_duty": "新个案", "raised": "风险升级", "repeat": "未接手·再次通知（含备班）", "supervisor": "未接手·通知主管",
    "chain": "未接手·通知上级主管", "no_duty": "无人值班·通知主管", "next_shift": "接班·待处理个案",
    "transfer": "转交给你", "callback": "回电任务", "follow_up": "随访提醒",
}
SENT_TTL_S = 7 * 24 * 3600
RETRY_BACKOFF_S = (5, 15, 30, 60, 120)   # attempt 2, 3, … ; then give up
LEASE_S = 30


@dataclass(frozen=True)
class Page:
    """One notification round of one case. Never holds message text, signals or user ids."""
    case_id: str
    risk: str            # level name: imminent / high / medium …
    org: str             # the case's organisation
    org_name: str
    team: str            # the organisation whose team is paged (may be an ancestor of org)
    team_name: str
    tier: str            # see TIER_LABELS
    round_key: str       # identifies this round for duplicate suppression (e.g. "0", "r2", "raised-4")
    targets: tuple[str, ...] = ()  # console usernames paged
    link: str = ""
    at: float = 0.0

    # Notifiers written against the case (`case.id`, `case.risk`, `case.org`) keep working.
    @property
    def id(self) -> str:
        return self.case_id

    @property
    def level(self) -> Risk:
        return Risk[self.risk]

    @property
    def risk_label(self) -> str:
        return RISK_LABELS.get(self.risk, self.risk)

    @property
    def tier_label(self) -> str:
        return TIER_LABELS.get(self.tier, self.tier)

    def text(self) -> str:
        """The whole notification: risk, organisation, tier, console link. Safe for any chat."""
        where = self.org_name if self.team == self.org else f"{self.org_name}（由 {self.team_name} 值守）"
        return (f"【心驿·{self.risk_label}】{self.tier_label}\n个案 {self.case_id} · {where}\n"
                f"请登录值班台处理：{self.link}")

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | bytes) -> "Page":
        d = json.loads(raw)
        d["targets"] = tuple(d.get("targets") or ())
        return cls(**d)


@runtime_checkable
class Notifier(Protocol):
    """A paging channel. `notify` raises on failure (the dispatcher records and retries it).

    It gets a `Page`: use `page.text()` for the message (it carries no conversation text),
    `page.targets` for the usernames paged, `page.case_id`, `page.risk`, `page.team`.
    """
    name: str

    async def notify(self, page: Page) -> None: ...


class ConsoleNotifier:
    """Live pages in the staff console (the queue page polls them and beeps)."""
    name = "console"

    def __init__(self, redis: Redis):
        self.redis = redis

    async def notify(self, page: Page) -> None:
        await self.redis.xadd(keys.PAGES, {"page": page.to_json()}, maxlen=10_000, approximate=True)


class WeComRobotNotifier:
    """企业微信群机器人: a JSON POST to the group's webhook URL (its `key` is a secret)."""
    name = "wecom"

    def __init__(self, webhook_url: str, timeout_s: float = 5.0, client: httpx.AsyncClient | None = None):
        self.url = webhook_url
        self.timeout_s = timeout_s
        self._client = client

    async def notify(self, page: Page) -> None:
        body = {"msgtype": "markdown", "markdown": {"content": _markdown(page)}}
        if self._client is None:  # one client (connection pool, TLS context) for every page
            self._client = httpx.AsyncClient(timeout=self.timeout_s, trust_env=False)
        resp = await self._client.post(self.url, json=body)
        if resp.status_code != 200:
            raise RuntimeError(f"wecom webhook answered HTTP {resp.status_code}")
        try:
            errcode = resp.json().get("errcode", 0)
        except ValueError:
            errcode = -1
        if errcode != 0:
            raise RuntimeError(f"wecom webhook errcode {errcode}")


def _markdown(page: Page) -> str:
    color = "warning" if page.risk in ("imminent", "high") else "comment"
    where = page.org_name if page.team == page.org else f"{page.org_name}（由 {page.team_name} 值守）"
    return (f"**心驿 · <font color=\"{color}\">{page.risk_label}</font>** {page.tier_label}\n"
            f"> 个案：{page.case_id}\n> 机构：{where}\n> [打开值班台]({page.link})")


@dataclass
class Delivery:
    page: Page
    channel: str
    attempt: int = 1
    id: str = field(default_factory=lambda: secrets.token_hex(8))


# Take due retries with a lease: a worker that dies mid-retry leaves them to be taken again.
_LEASE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(due) do redis.call('ZADD', KEYS[1], tonumber(ARGV[2]), id) end
return due
"""


class Dispatcher:
    """Sends pages through every channel; records, retries and surfaces failures."""

    def __init__(self, redis: Redis, notifiers: list, metrics=None, clock=None, timeout_s: float = 10.0,
                 backoff_s: tuple[float, ...] = RETRY_BACKOFF_S):
        from core.clock import SystemClock
        self.redis = redis
        self.notifiers = list(notifiers)
        self.metrics = metrics
        self.clock = clock or SystemClock()
        self.timeout_s = timeout_s
        self.backoff_s = backoff_s
        self._lease = redis.register_script(_LEASE)

    def add(self, notifier) -> None:
        self.notifiers.append(notifier)

    def channel_ids(self) -> list[str]:
        """A unique id per channel: its name, numbered when two channels share one."""
        names = [n.name for n in self.notifiers]
        return [n if names.count(n) == 1 else f"{n}{i}" for i, n in enumerate(names)]

    def _by_name(self, channel: str):
        return dict(zip(self.channel_ids(), self.notifiers)).get(channel)

    async def send(self, page: Page) -> dict[str, str]:
        """Deliver through every channel at once; return channel → ok / duplicate / failed."""
        ids = self.channel_ids()
        results = await asyncio.gather(*(self._deliver(Delivery(page, c)) for c in ids))
        return dict(zip(ids, results))

    async def _deliver(self, d: Delivery) -> str:
        notifier = self._by_name(d.channel)
        if notifier is None:
            return "failed"
        sent_key = keys.page_sent(d.page.case_id, d.page.round_key, d.channel)
        if await self.redis.exists(sent_key):
            if self.metrics:
                self.metrics.duplicates.labels(d.channel).inc()
            return "duplicate"
        try:
            await asyncio.wait_for(notifier.notify(d.page), self.timeout_s)
        except Exception as exc:  # any channel failure: record, retry later, keep the others going
            await self._failed(d, exc)
            return "failed"
        await self.redis.set(sent_key, "1", ex=SENT_TTL_S)
        if self.metrics:
            self.metrics.pages.labels(d.channel, d.page.tier).inc()
        return "ok"

    async def _failed(self, d: Delivery, exc: Exception) -> None:
        now = self.clock.now()
        # A page holds no message text, so a channel's error cannot leak any; keep it short anyway.
        reason = f"{type(exc).__name__}: {str(exc)[:120]}".rstrip(": ")
        gave_up = d.attempt > len(self.backoff_s)
        log.error("paging channel %s failed case=%s tier=%s attempt=%d%s: %s", d.channel, d.page.case_id,
                  d.page.tier, d.attempt, " (giving up)" if gave_up else "", reason)
        if self.metrics:
            self.metrics.paging_failures.labels(d.channel).inc()
            if gave_up:
                self.metrics.pages_gave_up.labels(d.channel).inc()
        await self.redis.xadd(keys.PAGING_FAILURES, {
            "at": repr(now), "channel": d.channel, "case": d.page.case_id, "org": d.page.org, "team": d.page.team,
            "tier": d.page.tier, "attempt": str(d.attempt), "reason": reason,
            "next": "gave_up" if gave_up else repr(now + self.backoff_s[d.attempt - 1])},
            maxlen=10_000, approximate=True)
        if gave_up:
            await self.redis.hdel(keys.PAGING_RETRY_DATA, d.id)
            await self.redis.zrem(keys.PAGING_RETRY, d.id)
            return
        nxt = Delivery(d.page, d.channel, d.attempt + 1, d.id)
        await self.redis.hset(keys.PAGING_RETRY_DATA, d.id, json.dumps(
            {"page": d.page.to_json(), "channel": d.channel, "attempt": nxt.attempt}))
        await self.redis.zadd(keys.PAGING_RETRY, {d.id: now + self.backoff_s[d.attempt - 1]})

    async def retry_due(self, limit: int = 100) -> int:
        now = self.clock.now()
        ids = await self._lease(keys=[keys.PAGING_RETRY], args=[repr(now), repr(now + LEASE_S), limit])
        done = 0
        for raw_id in ids:
            rid = raw_id.decode() if isinstance(raw_id, bytes) else raw_id
            raw = await self.redis.hget(keys.PAGING_RETRY_DATA, rid)
            if raw is None:
                await self.redis.zrem(keys.PAGING_RETRY, rid)
                continue
            d = json.loads(raw)
            result = await self._deliver(Delivery(Page.from_json(d["page"]), d["channel"], int(d["attempt"]), rid))
            if result != "failed":
                await self.redis.zrem(keys.PAGING_RETRY, rid)
                await self.redis.hdel(keys.PAGING_RETRY_DATA, rid)
                log.warning("paging channel %s delivered case=%s on attempt %s", d["channel"],
                            Page.from_json(d["page"]).case_id, d["attempt"])
            done += 1
        return done

    async def recent_failures(self, since: float, limit: int = 50) -> list[dict[str, str]]:
        entries = await self.redis.xrevrange(keys.PAGING_FAILURES, count=limit)
        out = []
        for _, f in entries:
            d = {k.decode(): v.decode() for k, v in f.items()}
            if float(d["at"]) >= since:
                out.append(d)
        return out
