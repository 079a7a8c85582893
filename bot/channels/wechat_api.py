"""The outbound half of WeChat and WeCom: access token, customer-service messages, output channel.

One access token per account is shared by every process through the database (WeChat
invalidates older tokens when a new one is fetched, so processes must not each keep
their own). It is refreshed before it expires, and once more when WeChat calls it
invalid. Network errors, HTTP 5xx and WeChat's "system busy" are retried with backoff.
Nothing logged here contains the secret, the token or the message text.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

import aiohttp
from rasa.core.channels.channel import OutputChannel

from bot.channels.common import replies
from bot.channels.wechat_text import Rendered, render
from bot.storage.channels import ChannelService
from bot.storage.models import utcnow

logger = logging.getLogger(__name__)

INVALID_TOKEN = frozenset({40001, 40014, 42001})
SYSTEM_BUSY = -1


class WeChatApiError(Exception):
    """WeChat refused a call or could not be reached."""

    def __init__(self, channel: str, errcode: int | None, reason: str) -> None:
        super().__init__(f"{channel}: {reason}" + (f" (errcode {errcode})" if errcode is not None else ""))
        self.channel = channel
        self.errcode = errcode


class DeliveryWindowClosed(WeChatApiError):
    """WeChat accepts customer-service messages only within 48 hours of the user's last message."""


@dataclass(frozen=True)
class ApiSpec:
    """What differs between the Official Account API and the WeCom app API."""

    channel: str
    token_path: str
    token_params: dict[str, str]
    send_path: str
    # errcodes that mean "this user cannot be messaged now" (48-hour window and the like)
    refused: frozenset[int]
    agent_id: int | None = None

    def message(self, external_id: str, text: str) -> dict[str, Any]:
        body: dict[str, Any] = {"touser": external_id, "msgtype": "text", "text": {"content": text}}
        if self.agent_id is not None:
            body["agentid"] = self.agent_id
        return body


class WeChatApiClient:
    def __init__(self, spec: ApiSpec, base_url: str, store: ChannelService, *,
                 timeout: float = 5.0, attempts: int = 3, backoff: float = 0.5,
                 refresh_margin: timedelta = timedelta(minutes=5),
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.spec = spec
        self.base_url = base_url.rstrip("/")
        self.store = store
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.attempts = attempts
        self.backoff = backoff
        self.refresh_margin = refresh_margin
        self.clock = clock
        self._token: tuple[str, datetime] | None = None
        self._token_lock: asyncio.Lock | None = None

    async def send_text(self, external_id: str, text: str) -> None:
        """Send one text message; raises :class:`WeChatApiError` when it was not delivered."""
        body = self.spec.message(external_id, text)
        token = await self.access_token()
        result = await self._call("POST", self.spec.send_path, {"access_token": token}, body)
        if result.get("errcode") in INVALID_TOKEN:
            logger.info("%s access token refused (errcode %s), fetching a new one",
                        self.spec.channel, result.get("errcode"))
            token = await self.access_token(refused=token)
            result = await self._call("POST", self.spec.send_path, {"access_token": token}, body)
        self._check(result, "send")

    async def access_token(self, refused: str | None = None) -> str:
        """A token valid for at least ``refresh_margin``; ``refused`` is one WeChat just rejected."""
        if self._token_lock is None:
            self._token_lock = asyncio.Lock()
        async with self._token_lock:
            if refused is not None:
                self._token = None
                await asyncio.to_thread(self.store.drop_token, self.spec.channel, refused)
            if self._fresh(self._token):
                return self._token[0]  # type: ignore[index]
            shared = await asyncio.to_thread(self.store.token, self.spec.channel)
            if self._fresh(shared) and (refused is None or shared[0] != refused):  # type: ignore[index]
                self._token = shared
                return shared[0]  # type: ignore[index]
            self._token = await self._fetch_token()
            await asyncio.to_thread(self.store.save_token, self.spec.channel, *self._token)
            return self._token[0]

    def _fresh(self, token: tuple[str, datetime] | None) -> bool:
        return token is not None and token[1] - self.refresh_margin > self.clock()

    async def _fetch_token(self) -> tuple[str, datetime]:
        result = await self._call("GET", self.spec.token_path, self.spec.token_params, None)
        self._check(result, "token")
        token = result.get("access_token")
        if not isinstance(token, str) or not token:
            raise WeChatApiError(self.spec.channel, None, "token answer without access_token")
        expires_in = int(result.get("expires_in") or 7200)
        logger.info("%s access token fetched, valid %ss", self.spec.channel, expires_in)
        return token, self.clock() + timedelta(seconds=expires_in)

    def _check(self, result: dict[str, Any], what: str) -> None:
        errcode = result.get("errcode") or 0
        if errcode == 0:
            return
        logger.warning("%s %s refused: errcode %s", self.spec.channel, what, errcode)
        if errcode in self.spec.refused:
            raise DeliveryWindowClosed(self.spec.channel, errcode,
                                       "the user cannot receive messages now (48-hour window closed)")
        raise WeChatApiError(self.spec.channel, errcode, f"{what} refused")

    async def _call(self, method: str, path: str, params: dict[str, str],
                    body: dict[str, Any] | None) -> dict[str, Any]:
        """One API call with retries; the answer's JSON (WeChat reports errors inside it)."""
        url = f"{self.base_url}{path}"
        for attempt in range(1, self.attempts + 1):
            problem: str
            try:
                async with aiohttp.ClientSession(timeout=self.timeout) as http:
                    async with http.request(method, url, params=params, json=body) as response:
                        if response.status < 500:
                            result = await response.json(content_type=None)
                            if not isinstance(result, dict):
                                raise WeChatApiError(self.spec.channel, None, "answer is not an object")
                            if result.get("errcode") != SYSTEM_BUSY:
                                return result
                            problem = "system busy"
                        else:
                            problem = f"HTTP {response.status}"
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
                problem = type(exc).__name__
            logger.warning("%s %s attempt %s/%s failed: %s", self.spec.channel, path, attempt,
                           self.attempts, problem)
            if attempt < self.attempts:
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
        raise WeChatApiError(self.spec.channel, None, f"{path} unreachable after {self.attempts} attempts")


def signed(message: dict[str, Any]) -> dict[str, Any]:
    """A staff member's reply (``staff`` and ``staff_name`` from bot.staff) starting with their name:
    WeChat shows every message of the account alike, so the worker sees who is writing."""
    name = message.get("staff_name")
    if message.get("staff") is not True or not name or not message.get("text"):
        return message
    return {**message, "text": replies()["staff_reply_prefix"].format(name=name) + message["text"]}


class WeChatApiOutput(OutputChannel):
    """Messages the worker did not just ask for (late answers, staff replies) via the API."""

    def __init__(self, channel: str, api: WeChatApiClient, store: ChannelService,
                 window: timedelta | None) -> None:
        self.channel = channel
        self.api = api
        self.store = store
        self.window = window

    def name(self) -> str:  # type: ignore[override]
        return self.channel

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        await self.deliver(recipient_id, render([signed(message)]))

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.deliver(recipient_id, render([{"text": text}]))

    async def deliver(self, sender_id: str, rendered: Rendered) -> None:
        """Send every piece in order; raises when WeChat did not take one."""
        if not rendered.texts:
            return
        recipient = await asyncio.to_thread(self.store.recipient, sender_id)
        if self.window is not None and (recipient.last_inbound_at is None
                                        or utcnow() - recipient.last_inbound_at > self.window):
            raise DeliveryWindowClosed(self.channel, None,
                                       "the worker has not written for 48 hours; WeChat allows no message")
        for text in rendered.texts:
            await self.api.send_text(recipient.external_id, text)
        await asyncio.to_thread(self.store.set_menu, sender_id, rendered.menu, rendered.details)
