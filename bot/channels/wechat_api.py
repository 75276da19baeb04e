"""The WeChat server API (customer-service messages, menu) through wechatpy, with one
access_token shared by every worker.

- The token lives in Redis (wechatpy's RedisStorage under core.keys.WECHAT_SESSION) with a
  TTL a few minutes shorter than WeChat's `expires_in`, so it is refreshed before it expires.
- Only one worker refreshes at a time (a Redis lock): each fetch of a new token invalidates
  the previous one, so N workers fetching at once would keep invalidating each other.
- An invalid-token answer (40001 / 40014 / 42001) refreshes once — unless another worker
  already replaced the token that failed — and retries the call once.
- wechatpy is synchronous (requests); calls run on a small thread pool of their own.

Nothing from wechatpy leaves this module except through plain values and WeChatAPIError.
"""
from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import redis as sync_redis
import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session.redisstorage import RedisStorage

from core import keys

log = logging.getLogger("xinyi.wechat.api")
INVALID_TOKEN = (40001, 40014, 42001)
TOKEN_MARGIN_S = 300
# errcodes that mean "this message can never be delivered as things stand"
UNDELIVERABLE = {
    45015: "48-hour customer-service window closed",
    45047: "customer-service message limit for this user message reached",
    43004: "user has unsubscribed",
    43019: "user has blocked the account",
    40003: "invalid openid",
}


class WeChatAPIError(Exception):
    def __init__(self, errcode: int | None, errmsg: str = ""):
        super().__init__(f"wechat api error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg

    @property
    def undeliverable(self) -> str | None:
        return UNDELIVERABLE.get(self.errcode) if self.errcode is not None else None


class _TokenStorage(RedisStorage):
    """wechatpy's Redis storage, keeping the token a margin shorter than WeChat does."""

    def set(self, key, value, ttl=None):
        if ttl:
            ttl = max(60, int(ttl) - TOKEN_MARGIN_S)
        super().set(key, value, ttl)


class _Client(WeChatClient):
    def __init__(self, appid: str, secret: str, base_url: str, redis, timeout: float):
        super().__init__(appid, secret, session=_TokenStorage(redis, prefix=keys.WECHAT_SESSION),
                         timeout=timeout, auto_retry=False)
        self.API_BASE_URL = base_url
        self._redis = redis
        self.token_fetches = 0

    # -- the shared token ---------------------------------------------------------------
    @property
    def access_token(self):
        token = self.session.get(self.access_token_key)
        return token or self.refresh_token(stale=None)

    def fetch_access_token(self):
        """GET {API_BASE_URL}token — wechatpy hard-codes the real host here; tests need the base URL."""
        self.token_fetches += 1
        try:
            res = self._http.get(self.API_BASE_URL + "token", timeout=self.timeout or 5, params={
                "grant_type": "client_credential", "appid": self.appid, "secret": self.secret})
            res.raise_for_status()
            result = res.json()
        except (requests.RequestException, ValueError) as exc:
            raise WeChatClientException(None, f"token request failed: {type(exc).__name__}") from None
        if result.get("errcode"):
            raise WeChatClientException(result["errcode"], result.get("errmsg", ""))
        self.session.set(self.access_token_key, result["access_token"], int(result.get("expires_in", 7200)))
        log.info("wechat access_token refreshed")
        return result

    def refresh_token(self, stale: str | None) -> str:
        """A new token, fetched by exactly one worker; the others wait for it."""
        lock = keys.wechat_token_lock(self.appid)
        deadline = time.monotonic() + 10
        while True:
            current = self.session.get(self.access_token_key)
            if current and current != stale:
                return current
            if self._redis.set(lock, "1", nx=True, px=10_000):
                try:
                    current = self.session.get(self.access_token_key)
                    if current and current != stale:
                        return current
                    self.fetch_access_token()
                    return self.session.get(self.access_token_key)
                finally:
                    self._redis.delete(lock)
            if time.monotonic() > deadline:
                raise WeChatClientException(None, "timed out waiting for another worker's token refresh")
            time.sleep(0.05)

    def _request(self, method, url_or_endpoint, **kwargs):
        params = dict(kwargs.pop("params", None) or {})
        for attempt in (1, 2):
            token = self.access_token
            params["access_token"] = token
            try:
                return super()._request(method, url_or_endpoint, params=dict(params), **kwargs)
            except WeChatClientException as exc:
                if attempt == 1 and exc.errcode in INVALID_TOKEN:
                    log.warning("wechat access_token rejected (errcode %s); refreshing", exc.errcode)
                    self.refresh_token(stale=token)
                    continue
                raise
            except requests.RequestException as exc:
                raise WeChatClientException(None, f"request failed: {type(exc).__name__}") from None


class WeChatAPI:
    """Async face of the WeChat API for the channel and the CLI."""

    def __init__(self, appid: str, secret: str, redis_url: str, base_url: str, timeout: float = 5.0,
                 workers: int = 8):
        self._redis = sync_redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=2)
        self.client = _Client(appid, secret, base_url, self._redis, timeout)
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="wechat-api")

    async def _call(self, fn, *args, **kwargs):
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, partial(fn, *args, **kwargs))
        except WeChatClientException as exc:
            raise WeChatAPIError(exc.errcode, str(exc.errmsg or "")) from None
        except sync_redis.RedisError as exc:
            raise WeChatAPIError(None, f"redis: {type(exc).__name__}") from None

    async def send_text(self, openid: str, text: str) -> None:
        """A customer-service text message (客服消息)."""
        await self._call(self.client.message.send_text, openid, text)

    async def create_menu(self, menu: dict) -> None:
        await self._call(self.client.menu.create, menu)

    async def get_menu(self) -> dict:
        return await self._call(self.client.menu.get)

    async def token(self) -> str:
        return await self._call(lambda: self.client.access_token)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._redis.close()
