"""Rasa's REST and callback channels behind a guard.

Before a message reaches the model the guard answers on its own: a body that is not a JSON
object with string ``sender`` and ``message`` (a sender of other characters than ASCII letters,
digits and ``_.~:-``, ``metadata`` that is not an object) → 400; an empty, oversized or unreadable
(NUL, lone surrogate) message → the channel's reply (200, nothing processed); a sender over
the rate limit → 429 with a reply saying the message was not processed. A client may not choose another channel's name
(``input_channel``): replies of staff go to the channel the worker really used. A typed Rasa
command ("/restart") is read as words: Rasa would otherwise end a handoff's pause.

REST and callback are integration channels: every message needs ``Authorization: Bearer
<REST_TOKEN>`` (401 otherwise), and their senders live in their own namespace
(``rest:<sender>``, ``callback:<sender>``), so no REST client reaches a web-chat, WeChat or
WeCom conversation, whatever ``sender`` it names.

When handling a message fails (the tracker store's database or the lock store's Redis is
down) the worker gets ``system_busy`` instead of an empty answer, and the log names the
error without the worker's text (Rasa's own handler would log the text at error level).
A worker waiting for a person is told their message arrived (bot/channels/waiting.py).
"""
from __future__ import annotations

import asyncio
import hmac
import logging
import re
from typing import Any, Awaitable, Callable

from rasa.core.channels.callback import CallbackInput
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.common import as_words, problem_with, replies
from bot.channels.ratelimit import limiter
from bot.channels.waiting import acknowledging

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
MAX_SENDER_CHARS = 128
# Characters a URL path carries as they are: the console's replies to a worker address the
# conversation by URL, and Rasa's router does not decode "%XX", so an escaped sender would name
# another conversation.
SENDER_PATTERN = re.compile(r"[A-Za-z0-9_.~:-]+")


def guard_turns(on_new_message: OnNewMessage) -> OnNewMessage:
    """``on_new_message`` that answers ``system_busy`` when the turn fails."""

    async def guarded(message: UserMessage) -> None:
        try:
            await on_new_message(message)
        except asyncio.CancelledError:
            # The client went away (timeout). Rasa's REST handler would log the text at error level.
            logger.warning("%s turn cancelled: the client stopped waiting", message.input_channel)
        except Exception as exc:  # noqa: BLE001 - the worker must hear that nothing happened
            logger.error("%s turn failed: %s: %s", message.input_channel, type(exc).__name__,
                         str(exc).splitlines()[0][:200] if str(exc) else "")
            await message.output_channel.send_text_message(message.sender_id, replies()["system_busy"])

    return guarded


class _Guard:
    """The request middleware shared by both channels."""

    def __init__(self, channel: str, token: str) -> None:
        self.channel = channel
        self.expected = f"Bearer {token}".encode("utf-8")

    async def __call__(self, request: Request) -> HTTPResponse | None:
        # Every request but a read is guarded, whatever its path: Sanic also routes "/webhook/"
        # to the webhook.
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        given = (request.headers.get("authorization") or "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, self.expected):
            logger.warning("%s: request without the REST token refused", self.channel)
            return response.json({"error": "unauthorized", "message": replies()["unauthorized"]}, status=401,
                                 headers={"WWW-Authenticate": "Bearer"})
        try:
            body = request.json
        except SanicException:
            body = None
        if not _well_formed(body):
            return response.json({"error": "bad_request", "message": replies()["bad_request"]}, status=400)
        sender, text = body["sender"], body.get("message")
        body.pop("input_channel", None)
        if isinstance(text, str):
            body["message"] = as_words(text)
        problem = problem_with(text)
        recipient = namespaced(self.channel, sender)
        if problem is not None:
            return response.json([{"recipient_id": recipient, "text": problem}])
        if not await limiter().allow(recipient):
            logger.warning("%s: sender over the rate limit", self.channel)
            return response.json([{"recipient_id": recipient, "text": replies()["rate_limited"]}], status=429)
        return None


def _well_formed(body: object) -> bool:
    """A JSON object; ``sender`` a short string of URL-safe characters; ``message`` a string or
    absent; ``metadata`` an object or absent."""
    if not isinstance(body, dict):
        return False
    sender, text, metadata = body.get("sender"), body.get("message"), body.get("metadata")
    return (isinstance(sender, str) and len(sender) <= MAX_SENDER_CHARS and SENDER_PATTERN.fullmatch(sender) is not None
            and (text is None or isinstance(text, str)) and (metadata is None or isinstance(metadata, dict)))


def _guarded_blueprint(blueprint: Blueprint, channel: str) -> Blueprint:
    from bot.config import load_settings

    blueprint.middleware("request")(_Guard(channel, load_settings().rest_token))
    return blueprint


def namespaced(channel: str, sender: str) -> str:
    """The conversation id of an integration's ``sender``: only this channel can reach it."""
    return f"{channel}:{sender}"


class GuardedRestInput(RestInput):
    """``rest`` (/webhooks/rest/webhook) with the guard."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    async def _extract_sender(self, req: Request) -> str | None:
        sender = await super()._extract_sender(req)
        return namespaced(self.name(), sender) if sender else None

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        return _guarded_blueprint(super().blueprint(guard_turns(acknowledging(on_new_message))), self.name())


class GuardedCallbackInput(CallbackInput):
    """``callback`` (/webhooks/callback/webhook, replies posted to CALLBACK_URL) with the guard."""

    @classmethod
    def name(cls) -> str:
        return "callback"

    async def _extract_sender(self, req: Request) -> str | None:
        sender = await super()._extract_sender(req)
        return namespaced(self.name(), sender) if sender else None

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        return _guarded_blueprint(super().blueprint(guard_turns(acknowledging(on_new_message))), self.name())
