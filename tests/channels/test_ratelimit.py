"""The per-sender limit: a burst, then a steady rate; shared through Redis by several servers."""
from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import pytest

from bot.channels import ratelimit
from bot.channels.ratelimit import RateLimiter, client_address
from bot.channels.replay import NonceGuard
from bot.cluster.redis import RedisServer
from tests.conftest import free_port


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def allowed(limiter: RateLimiter, key: str, times: int) -> int:
    return sum(asyncio.run(_many(limiter, key, times)))


async def _many(limiter: RateLimiter, key: str, times: int) -> list[bool]:
    return [await limiter.allow(key) for _ in range(times)]


def test_a_burst_then_one_message_per_interval(monkeypatch: pytest.MonkeyPatch):
    clock = Clock()
    monkeypatch.setattr(ratelimit.time, "time", clock)
    limiter = RateLimiter(burst=5, per_minute=60)
    assert allowed(limiter, "rest:a", 8) == 5
    assert allowed(limiter, "rest:b", 1) == 1  # another worker is not affected
    clock.now += 1.0
    assert allowed(limiter, "rest:a", 3) == 1  # one a second refills
    clock.now += 60
    assert allowed(limiter, "rest:a", 8) == 5


def test_zero_per_minute_switches_the_limit_off():
    assert allowed(RateLimiter(burst=1, per_minute=0), "rest:a", 50) == 50


@pytest.fixture(scope="module")
def redis_server():
    server = RedisServer(free_port(), Path(tempfile.mkdtemp(prefix="niangjia-redis-")))
    server.start()
    yield server
    server.stop()


def test_servers_sharing_redis_share_each_senders_count(redis_server: RedisServer):
    first, second = (RateLimiter(burst=6, per_minute=6, redis_url=redis_server.url) for _ in range(2))
    assert allowed(first, "rest:shared", 4) + allowed(second, "rest:shared", 4) == 6


def test_when_redis_is_down_workers_are_still_served():
    limiter = RateLimiter(burst=1, per_minute=1, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    assert allowed(limiter, "rest:a", 3) == 3


@pytest.mark.parametrize("peer, forwarded, proxies, expected", [
    ("203.0.113.9", None, 0, "203.0.113.9"),
    ("127.0.0.1", "198.51.100.7", 0, "127.0.0.1"),          # no proxy trusted: a header is not believed
    ("127.0.0.1", "198.51.100.7", 1, "198.51.100.7"),       # nginx appended the address it saw
    ("127.0.0.1", "6.6.6.6, 198.51.100.7", 1, "198.51.100.7"),  # a forged first hop is ignored
    ("127.0.0.1", "", 1, "127.0.0.1"),
])
def test_the_client_address_believes_only_trusted_proxies(peer, forwarded, proxies, expected):
    assert client_address(peer, forwarded, proxies) == expected


async def _fresh(guard: NonceGuard, *calls: tuple[str, str, str]) -> list[bool]:
    return [await guard.fresh("wechat", stamp, nonce, message) for stamp, nonce, message in calls]


@pytest.mark.parametrize("shared", [False, True], ids=["memory", "redis"])
def test_a_signed_timestamp_and_nonce_carry_one_message_on_every_server(shared: bool, request):
    """WeChat plain mode: the same pair again with the same message is WeChat's retry; with
    another message it is a replay, refused by whichever server it reaches."""
    url = request.getfixturevalue("redis_server").url if shared else ""
    first, second = NonceGuard(600, url), NonceGuard(600, url)
    guards = (first, second) if shared else (first, first)
    assert asyncio.run(_fresh(guards[0], ("1700000000", "n1", "msg-a"))) == [True]
    assert asyncio.run(_fresh(guards[1], ("1700000000", "n1", "msg-a"), ("1700000000", "n1", "msg-b"),
                              ("1700000000", "n2", "msg-b"))) == [True, False, True]
