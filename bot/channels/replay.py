"""Each signed (timestamp, nonce) of WeChat's plain mode is good for one message only.

In plain mode (明文模式) WeChat's signature covers the token, the timestamp and the nonce, not the
body: whoever sees one request could send another body (another worker's openid, other words)
with the same signature while the timestamp is fresh. The guard remembers every (timestamp,
nonce) for the clock-skew window with the message it carried; the same pair with the same
message is WeChat's own retry (answered from the inbox as before), with another message it is
refused. Memory on one machine, Redis in a cluster (``REDIS_URL``), where every server sees
every pair; when Redis cannot be reached the check is skipped and logged, as the rate limit is.
"""
from __future__ import annotations

import logging
import time
from collections import OrderedDict
from functools import lru_cache

logger = logging.getLogger(__name__)

_MAX_REMEMBERED = 200_000


class NonceGuard:
    def __init__(self, window_seconds: float, redis_url: str = "") -> None:
        self.window = window_seconds
        self._memory: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._redis = None
        if redis_url:
            from redis import asyncio as aioredis

            self._redis = aioredis.from_url(redis_url, socket_timeout=1.0, socket_connect_timeout=1.0)

    async def fresh(self, channel: str, timestamp: str, nonce: str, message_key: str) -> bool:
        """False when this (timestamp, nonce) already carried another message."""
        key = f"niangjia:nonce:{channel}:{timestamp}:{nonce}"
        if self._redis is None:
            return self._fresh_in_memory(key, message_key, time.monotonic())
        try:
            if await self._redis.set(key, message_key, nx=True, ex=int(self.window) + 1):
                return True
            seen = await self._redis.get(key)
        except Exception as exc:  # noqa: BLE001 - Redis down: the signature and timestamp still hold
            logger.warning("replay check skipped: Redis unavailable (%s)", type(exc).__name__)
            return True
        return seen is None or seen.decode("utf-8") == message_key

    def _fresh_in_memory(self, key: str, message_key: str, now: float) -> bool:
        while self._memory and (next(iter(self._memory.values()))[1] < now - self.window
                                or len(self._memory) > _MAX_REMEMBERED):
            self._memory.popitem(last=False)
        seen = self._memory.get(key)
        if seen is None:
            self._memory[key] = (message_key, now)
            return True
        return seen[0] == message_key


@lru_cache(maxsize=1)
def nonce_guard() -> NonceGuard:
    """The process's guard, on Redis when the settings name it."""
    from bot.channels.wechat_base import MAX_CLOCK_SKEW_SECONDS
    from bot.config import load_settings

    return NonceGuard(2 * MAX_CLOCK_SKEW_SECONDS, load_settings().redis_url)
