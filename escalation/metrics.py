"""Prometheus metrics of the escalation path, in a registry per app (safe for many test servers).

Histograms and counters are per process (Prometheus scrapes every worker); the open-case
gauge is read from Redis at scrape time, so every worker reports the same, true figure.
"""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from redis.asyncio import Redis

from core import keys
from escalation.cases import RANK_STEP
from nlu.risk import Risk

BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 180, 300, 600, 1800, 3600)


class EscalationMetrics:
    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.cases_created = Counter("xinyi_cases_created_total", "Cases opened, by risk level", ["level"], registry=r)
        self.cases_open = Gauge("xinyi_cases_open", "Open (unclosed) cases, by risk level", ["level"], registry=r)
        self.time_to_page = Histogram("xinyi_time_to_page_seconds", "Case creation to first page",
                                      ["level"], buckets=BUCKETS, registry=r)
        self.time_to_claim = Histogram("xinyi_time_to_claim_seconds", "Case creation to claim by staff",
                                       ["level"], buckets=BUCKETS, registry=r)
        self.pages = Counter("xinyi_pages_total", "Pages delivered, by channel and tier", ["channel", "tier"], registry=r)
        self.paging_failures = Counter("xinyi_paging_failures_total", "Failed page deliveries, by channel",
                                       ["channel"], registry=r)
        self.pages_gave_up = Counter("xinyi_paging_gave_up_total", "Pages abandoned after every retry failed",
                                     ["channel"], registry=r)
        self.duplicates = Counter("xinyi_pages_suppressed_total", "Duplicate pages suppressed", ["channel"], registry=r)
        self.retries_pending = Gauge("xinyi_paging_retries_pending", "Page deliveries waiting for a retry", registry=r)
        self.escalations = Counter("xinyi_escalations_total", "SLA re-escalations, by tier", ["tier"], registry=r)
        self.followups = Counter("xinyi_followups_delivered_total", "Follow-ups and callbacks delivered", ["kind"],
                                 registry=r)

    async def refresh(self, redis: Redis) -> None:
        """Read the gauges from Redis (the queue's score bands give the open cases per level)."""
        for risk in Risk:
            band = int(Risk.imminent) - int(risk)
            n = await redis.zcount(keys.OPEN_CASES, band * RANK_STEP, (band + 1) * RANK_STEP - 1e-3)
            self.cases_open.labels(risk.name).set(n)
        self.retries_pending.set(await redis.zcard(keys.PAGING_RETRY))

    async def render(self, redis: Redis) -> bytes:
        await self.refresh(redis)
        return generate_latest(self.registry)
