"""Wires the components from settings: one place that knows how the parts fit together."""
from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import BlockingConnectionPool, Redis

from bot.addresses import AddressBook
from bot.router import Router, RouterDeps
from bot.sessions import SessionStore
from bot.spool import Spool
from bot.settings import Settings
from core.clock import SystemClock
from core.seal import Sealer
from escalation.cases import CaseStore
from escalation.orgs import Orgs
from escalation.relay import Relay
from escalation.service import Escalation, build_escalation
from escalation.staff import StaffStore
from escalation.transcript import Transcript
from flows.registry import FlowRegistry
from nlu.assess import default_assessor
from nlu.rasa_client import RasaClient


@dataclass
class Runtime:
    settings: Settings
    redis: Redis
    sealer: Sealer
    sessions: SessionStore
    transcript: Transcript
    cases: CaseStore
    staff: StaffStore
    relay: Relay
    flows: FlowRegistry
    orgs: Orgs
    nlu: RasaClient | None
    router: Router
    clock: SystemClock
    spool: Spool | None = None
    escalation: Escalation | None = None  # paging, SLA timers, follow-ups (escalation/service.py)
    redis_url: str = ""                  # for the sync clients of SDKs (wechatpy's token storage)
    addresses: AddressBook | None = None  # sealed push addresses (WeChat openid, Telegram chat id)

    @property
    def followups(self):
        return self.escalation.followups

    @property
    def metrics(self):
        return self.escalation.metrics

    async def close(self) -> None:
        await self.redis.aclose()
        await self.redis.connection_pool.disconnect()  # a pool we passed in is not closed by aclose()


def build_runtime(settings: Settings, redis_url: str, rasa_url: str | None, clock=None) -> Runtime:
    clock = clock or SystemClock()
    # A blocking pool: under a burst, a request waits briefly for a free connection instead of
    # failing with MaxConnectionsError (seen at 100 simultaneous crises with the default pool).
    pool = BlockingConnectionPool.from_url(redis_url, max_connections=256, timeout=5, socket_timeout=5,
                                           socket_connect_timeout=2, health_check_interval=30)
    redis = Redis(connection_pool=pool)
    sealer = Sealer(settings.data_key.get_secret_value())
    sessions = SessionStore(redis, settings.session_ttl_s, sealer)
    transcript = Transcript(redis, sealer)
    cases = CaseStore(redis)
    flows = FlowRegistry(settings.flows_dir)
    orgs = Orgs.load(settings.orgs_file)
    nlu = RasaClient(rasa_url, timeout_s=settings.rasa_timeout_s) if rasa_url else None
    assessor = default_assessor()
    router = Router(RouterDeps(sessions=sessions, transcript=transcript, cases=cases, flows=flows, orgs=orgs,
                               assess=assessor.assess, nlu=nlu, clock=clock, max_chars=settings.max_message_chars))
    escalation = build_escalation(
        redis, cases, orgs, roster_file=settings.roster_file, clock=clock, sealer=sealer, transcript=transcript,
        base_url=settings.base_url, sla_s=settings.sla_overrides,
        wecom_webhook=settings.wecom_webhook_url.get_secret_value() if settings.wecom_webhook_url else None)
    return Runtime(settings, redis, sealer, sessions, transcript, cases, StaffStore(redis),
                   Relay(redis, transcript, sealer), flows, orgs, nlu, router, clock,
                   Spool(settings.data_dir / "spool", sealer), redis_url=redis_url,
                   addresses=AddressBook(redis, sealer), escalation=escalation)
