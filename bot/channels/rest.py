"""Rasa's REST and callback channels behind a guard.

Before a message reaches the model the guard answers on its own: a body that is not a JSON
object with string ``sender`` and ``message`` (a sender with control characters or a lone
surrogate, ``metadata`` that is not an object) → 400; an empty, oversized or unreadable
(NUL, lone surrogate) message → the channel's reply (200, nothing processed); a sender over
the rate limit → 429 with a reply saying the message was not processed. A client may not choose another channel's name
(``input_channel``): replies of staff go to the channel the worker really used. A typed Rasa
command ("/restart") is read as words: Rasa would otherwise end a handoff's pause.

When handling a message fails (the tracker store's database or the lock store's Redis is
down) the worker gets ``system_busy`` instead of an empty answer, and the log names the
error without the worker's text (Rasa's own handler would log the text at error level).
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable

from rasa.core.channels.callback import CallbackInput
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.common import as_words, clean, problem_with, replies
from bot.channels.ratelimit import limiter

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
MAX_SENDER_CHARS = 128


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

    def __init__(self, channel: str) -> None:
        self.channel = channel

    async def __call__(self, request: Request) -> HTTPResponse | None:
        if request.method != "POST" or not request.path.endswith("/webhook"):
            return None
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
        if problem is not None:
            return response.json([{"recipient_id": sender, "text": problem}])
        if not await limiter().allow(f"{self.channel}:{sender}"):
            logger.warning("%s: sender over the rate limit", self.channel)
            return response.json([{"recipient_id": sender, "text": replies()["rate_limited"]}], status=429)
        return None


def _well_formed(body: object) -> bool:
    """A JSON object; ``sender`` a short clean string; ``message`` a string or absent;
    ``metadata`` an object or absent."""
    if not isinstance(body, dict):
        return False
    sender, text, metadata = body.get("sender"), body.get("message"), body.get("metadata")
    return (isinstance(sender, str) and bool(sender.strip()) and len(sender) <= MAX_SENDER_CHARS and clean(sender)
            and (text is None or isinstance(text, str)) and (metadata is None or isinstance(metadata, dict)))


def _guarded_blueprint(blueprint: Blueprint, channel: str) -> Blueprint:
    blueprint.middleware("request")(_Guard(channel))
    return blueprint


class GuardedRestInput(RestInput):
    """``rest`` (/webhooks/rest/webhook) with the guard."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        return _guarded_blueprint(super().blueprint(guard_turns(on_new_message)), self.name())


class GuardedCallbackInput(CallbackInput):
    """``callback`` (/webhooks/callback/webhook, replies posted to CALLBACK_URL) with the guard."""

    @classmethod
    def name(cls) -> str:
        return "callback"

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        return _guarded_blueprint(super().blueprint(guard_turns(on_new_message)), self.name())
