"""Per-sender rate limit for the public channels (REST, callback, web chat, WeChat, WeCom).

A generic cell rate algorithm (GCRA): each sender may send a burst of ``burst`` messages,
then one every ``60 / per_minute`` seconds. One stored number per sender (the theoretical
arrival time), so it lives in process memory on one machine and in Redis in a cluster,
where every Rasa server sees the same count. When Redis cannot be reached the limit is not
applied (logged): refusing every worker because a counter is down would be worse.
"""
from __future__ import annotations

import logging
import time
from collections import OrderedDict
from functools import lru_cache

logger = logging.getLogger(__name__)

# Senders remembered in memory; the oldest are forgotten first (their bucket is full anyway).
_MAX_SENDERS = 100_000

# KEYS[1]: the sender's key; ARGV: now, interval, tolerance (seconds). 1 = allowed.
_GCRA_LUA = """
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local now, interval, tolerance = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if tat < now then tat = now end
if tat - now > tolerance then return 0 end
redis.call('SET', KEYS[1], tostring(tat + interval), 'EX', math.ceil(tolerance + interval) + 1)
return 1
"""


class RateLimiter:
    """``await allow(key)``: True while ``key`` stays within its burst and rate."""

    def __init__(self, burst: int, per_minute: int, redis_url: str = "") -> None:
        self.interval = 60.0 / max(per_minute, 1)
        self.tolerance = self.interval * (max(burst, 1) - 1)
        self.enabled = per_minute > 0
        self._memory: OrderedDict[str, float] = OrderedDict()
        self._script = None
        if redis_url:
            from redis import asyncio as aioredis

            client = aioredis.from_url(redis_url, socket_timeout=1.0, socket_connect_timeout=1.0)
            self._script = client.register_script(_GCRA_LUA)

    async def allow(self, key: str) -> bool:
        if not self.enabled:
            return True
        now = time.time()
        if self._script is None:
            return self._allow_in_memory(key, now)
        try:
            return bool(await self._script(keys=[f"niangjia:rate:{key}"],
                                           args=[now, self.interval, self.tolerance]))
        except Exception as exc:  # noqa: BLE001 - any Redis failure: serve rather than refuse
            logger.warning("rate limit not applied: Redis unavailable (%s)", type(exc).__name__)
            return True

    def _allow_in_memory(self, key: str, now: float) -> bool:
        tat = max(self._memory.pop(key, now), now)
        if tat - now > self.tolerance:
            self._memory[key] = tat
            return False
        self._memory[key] = tat + self.interval
        if len(self._memory) > _MAX_SENDERS:
            self._memory.popitem(last=False)
        return True


@lru_cache(maxsize=1)
def address_limiter() -> RateLimiter:
    """The looser limit per client address (RATE_LIMIT_ADDRESS_BURST, RATE_LIMIT_ADDRESS_PER_MINUTE)."""
    from bot.config import load_settings

    settings = load_settings()
    return RateLimiter(settings.rate_limit_address_burst, settings.rate_limit_address_per_minute,
                       settings.redis_url)


def client_address(peer: str, forwarded_for: str | None, trusted_proxies: int) -> str:
    """The client's address: the peer, or behind ``trusted_proxies`` proxies the address the
    outermost trusted one saw (X-Forwarded-For is believed no further than that)."""
    if trusted_proxies <= 0 or not forwarded_for:
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    return hops[-trusted_proxies] if len(hops) >= trusted_proxies else (hops[0] if hops else peer)


@lru_cache(maxsize=1)
def limiter() -> RateLimiter:
    """The process's limiter, configured by RATE_LIMIT_BURST, RATE_LIMIT_PER_MINUTE and REDIS_URL."""
    from bot.config import load_settings

    settings = load_settings()
    return RateLimiter(settings.rate_limit_burst, settings.rate_limit_per_minute, settings.redis_url)
