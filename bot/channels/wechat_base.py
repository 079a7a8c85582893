"""What the Official Account and WeCom channels share: WeChat's callback protocol.

A request is checked before it is trusted: size, timestamp (at most five minutes off),
signature (``hmac.compare_digest``), XML through defusedxml (no DTD, no entities), and
in safe mode the AES envelope. Then:

* the message is claimed in ``channel_inbox`` (unique per MsgId, or sender + CreateTime
  for events), so WeChat's retries - which may reach another process - never run twice;
* the bot has ``reply_seconds`` from the request's arrival (default 4 s of WeChat's 5) to
  answer. A quick answer that fits one message goes back in the HTTP response (passive
  reply) and is kept, so a retry - which means WeChat did not receive it - gets the same
  text again. A slow or
  long answer is acknowledged with "success" at once and delivered through the
  customer-service message API when it is ready.
* a calculation is sent as its conclusion and the line "回复“依据”查看…"; its details (working and
  statutes) are kept with the user (``channel_users``, for ``DETAILS_KEEP``) and sent when they
  reply "依据", without asking the model: the sender is the one WeChat's signature proved.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Awaitable, Callable
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as safe_xml
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.common import as_words, problem_with, replies
from bot.channels.ratelimit import limiter
from bot.channels.replay import nonce_guard
from bot.channels.waiting import acknowledging
from bot.channels.wechat_api import WeChatApiClient, WeChatApiOutput
from bot.channels.wechat_menu import click_payloads
from bot.channels.wechat_text import Rendered, choice, render, split_text
from bot.storage.channels import ChannelService, InboxClaim, channel_sender_id
from bot.storage.errors import StorageUnavailable
from bot.storage.models import InboxState
from bot.storage.services import HandoffService

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024
MAX_CLOCK_SKEW_SECONDS = 300
CS_WINDOW = timedelta(hours=48)
INBOX_KEEP = timedelta(hours=1)
PURGE_EVERY_SECONDS = 600
SUCCESS = "success"  # WeChat's "received, nothing to say"
GREETING = "/greet"  # a new follower gets the greeting with its menu of questions
DETAILS_WORDS = frozenset({"依据", "查看依据", "看依据"})  # what the hint under a calculation asks for
DETAILS_KEEP = timedelta(hours=24)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class RequestRefused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Turn:
    """What an incoming message asks of us."""

    text: str | None = None  # passed to Rasa
    reply: str | None = None  # answered at once, without the model
    subscribed: bool | None = None  # a follow / unfollow event


def sign(*parts: str) -> str:
    """WeChat's signature: sha1 of the sorted parts, concatenated."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def parse_xml(raw: bytes | str) -> Element:
    """Parse untrusted XML: any DTD or entity is refused (XML bombs, XXE)."""
    try:
        return safe_xml.fromstring(raw, forbid_dtd=True)
    except Exception as exc:  # ParseError, DTDForbidden, EntitiesForbidden, ...
        raise RequestRefused(400, f"unreadable XML ({type(exc).__name__})") from exc


class WeChatStyleInput(InputChannel):
    """Base of our WeChat-protocol channels; subclasses say how they verify and parse."""

    plain_signature = True  # the Official Account signs every request with ``signature``
    # How long after the user's last message the API may still write to them (None: no limit).
    delivery_window: timedelta | None = CS_WINDOW

    def __init__(self, token: str, account_id: str, crypto: Any, api: WeChatApiClient | None,
                 store: ChannelService | None, reply_seconds: float = 4.0, sender_key: str | None = None) -> None:
        self.token = token
        self._sender_key = sender_key
        self.account_id = account_id
        self.crypto = crypto
        self.api = api
        self.store = store
        self.reply_seconds = reply_seconds
        self._background: set[asyncio.Task] = set()
        self._last_purge = 0.0

    # -- hooks -------------------------------------------------------------------------------
    def parse(self, xml: str) -> Any:
        raise NotImplementedError

    def handshake(self, args: dict[str, str]) -> str:
        raise NotImplementedError

    def reply_xml(self, message: Any, text: str) -> str:
        raise NotImplementedError

    def turn_for(self, message: Any) -> Turn:
        """What to do with each kind of message (the same for the Official Account and WeCom)."""
        kind = message.type
        if kind == "text":
            return Turn(text=message.content or "")
        if kind == "voice":  # WeChat's speech recognition, when the account has it switched on
            recognised = (getattr(message, "recognition", None) or "").strip()
            return Turn(text=recognised) if recognised else Turn(reply=replies()["wechat_voice_unrecognised"])
        if kind == "event":
            return _event_turn(message.event)(message)
        if kind == "unknown" and str(message._data.get("MsgType", "")).lower() == "event":
            return Turn()  # events wechatpy does not know (WeCom's enter_agent, job reports)
        return Turn(reply=replies()["wechat_unsupported"])  # image, video, location, link, file

    # -- Rasa's channel interface ------------------------------------------------------------
    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        bp = Blueprint(f"{self.name()}_webhook", __name__)
        # A worker waiting for a person hears that their message arrived (handoffs: the store's database).
        on_new_message = acknowledging(on_new_message, self._handoffs)

        @bp.route("/", methods=["GET"])
        async def health(_request: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.configured else "not configured"})

        @bp.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            if not self.configured:
                return response.text("channel not configured", status=404)
            try:
                return response.text(self.handshake(_args(request)))
            except RequestRefused as exc:
                logger.warning("%s handshake refused: %s", self.name(), exc.reason)
                return response.text(exc.reason, status=exc.status)

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.configured:
                return response.text("channel not configured", status=404)
            arrived = time.monotonic()  # the passive window counts from here, not from the turn
            task = asyncio.create_task(self._receive(_args(request), request.body or b"", on_new_message, arrived))
            # Shielded: if WeChat hangs up, the message is still finished (and a retry replays it).
            status, body = await asyncio.shield(task)
            return response.text(body, status=status,
                                 content_type="application/xml" if body.startswith("<") else "text/plain")

        return bp

    @property
    def configured(self) -> bool:
        return bool(self.token) and self.store is not None

    def _handoffs(self) -> HandoffService:
        return HandoffService(self.store.db)  # type: ignore[union-attr]

    def get_output_channel(self) -> OutputChannel | None:
        if not self.configured or self.api is None:
            return None
        return WeChatApiOutput(self.name(), self.api, self.store,  # type: ignore[arg-type]
                               self.delivery_window)

    # -- one request -------------------------------------------------------------------------
    async def _receive(self, args: dict[str, str], raw: bytes, on_new_message: OnNewMessage,
                       arrived: float) -> tuple[int, str]:
        try:
            message = self._open(args, raw)
            await self._check_not_replayed(args, message)
        except RequestRefused as exc:
            logger.warning("%s request refused: %s", self.name(), exc.reason)
            return exc.status, exc.reason
        try:
            return 200, await self._answer(message, on_new_message, arrived)
        except StorageUnavailable:
            logger.error("%s message answered without processing: database unavailable", self.name())
            return 200, self.reply_xml(message, replies()["wechat_storage_down"])
        except Exception:
            logger.exception("%s message failed", self.name())
            return 200, self.reply_xml(message, replies()["wechat_error"])

    def _open(self, args: dict[str, str], raw: bytes) -> Any:
        """The checked, decrypted and parsed message; RequestRefused for anything else."""
        if len(raw) > MAX_BODY_BYTES:
            raise RequestRefused(413, "request too large")
        self.check_timestamp(args)
        if self.plain_signature:
            self.check_signature(args.get("signature"), args["timestamp"], args["nonce"])
        root = parse_xml(raw)
        if self.crypto is None:
            if args.get("encrypt_type") == "aes":
                raise RequestRefused(400, "encrypted message but safe mode is not configured")
            xml = raw.decode("utf-8")
        else:
            encrypt = root.findtext("Encrypt")
            if not encrypt:
                raise RequestRefused(403, "plain message refused in safe mode")
            self.check_signature(args.get("msg_signature"), args["timestamp"], args["nonce"], encrypt)
            try:
                xml = self.crypto.decrypt_message({"Encrypt": encrypt}, args["msg_signature"],
                                                  args["timestamp"], args["nonce"])
            except Exception as exc:
                raise RequestRefused(400, f"cannot decrypt ({type(exc).__name__})") from exc
            parse_xml(xml)
        try:
            message = self.parse(xml)
            _ = (message.type, message.source)
        except Exception as exc:
            raise RequestRefused(400, f"not a WeChat message ({type(exc).__name__})") from exc
        if not message.source:
            raise RequestRefused(400, "message without sender")
        return message

    async def _check_not_replayed(self, args: dict[str, str], message: Any) -> None:
        """Plain mode signs no body: a signed (timestamp, nonce) carries one message, from the
        openid WeChat names in the URL (bot.channels.replay)."""
        if not self.plain_signature or self.crypto is not None:
            return  # safe mode: the signature covers the encrypted body
        openid = args.get("openid")
        if openid and not hmac.compare_digest(openid.encode("utf-8"), str(message.source).encode("utf-8")):
            raise RequestRefused(403, "sender does not match the signed openid")
        if not await nonce_guard().fresh(self.name(), args["timestamp"], args["nonce"], message_key(message)):
            raise RequestRefused(403, "replayed signature")

    def check_timestamp(self, args: dict[str, str]) -> None:
        stamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
        if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12) or not nonce:
            raise RequestRefused(403, "missing timestamp or nonce")
        if abs(time.time() - int(stamp)) > MAX_CLOCK_SKEW_SECONDS:
            raise RequestRefused(403, "stale timestamp")

    def check_signature(self, given: str | None, *parts: str) -> None:
        if not given or not hmac.compare_digest(given.encode(), sign(self.token, *parts).encode()):
            raise RequestRefused(403, "bad signature")

    async def _answer(self, message: Any, on_new_message: OnNewMessage, arrived: float) -> str:
        store: ChannelService = self.store  # type: ignore[assignment]
        key = message_key(message)
        claim = await asyncio.to_thread(store.claim_message, self.name(), key)
        if not claim.first:
            return await self._answer_retry(message, key, claim)
        self._purge_now_and_then(store)
        sender_id = self.sender_id(message.source)
        turn = self.turn_for(message)
        await asyncio.to_thread(store.seen, self.name(), message.source, sender_id, turn.subscribed)
        text = turn.text
        if text is not None:
            problem = problem_with(text)
            if problem is None and not await limiter().allow(f"{self.name()}:{sender_id}"):
                problem = replies()["rate_limited"]
            if problem is not None:
                turn, text = Turn(reply=problem), None
            elif asks_details(text):
                return await self._answer_details(message, key, sender_id)
            else:
                menu = await asyncio.to_thread(store.menu, sender_id)
                text = choice(text, menu) or as_words(text)
        if turn.reply is not None:
            await asyncio.to_thread(store.finish_message, self.name(), key, InboxState.PASSIVE, turn.reply)
            return self.reply_xml(message, turn.reply)
        if text is None:
            await asyncio.to_thread(store.finish_message, self.name(), key, InboxState.DONE)
            return SUCCESS
        return await self._run_turn(message, key, sender_id, text, on_new_message, arrived)

    async def _answer_details(self, message: Any, key: str, sender_id: str) -> str:
        """The working and statutes of the user's last calculation: a passive reply when they fit
        one message, else through the API (the numbered options shown before stay valid)."""
        store: ChannelService = self.store  # type: ignore[assignment]
        details = await asyncio.to_thread(store.details, sender_id, DETAILS_KEEP)
        pieces = split_text(details) if details else [replies()["wechat_details_none"]]
        if len(pieces) == 1:
            await asyncio.to_thread(store.finish_message, self.name(), key, InboxState.PASSIVE, pieces[0])
            return self.reply_xml(message, pieces[0])
        await asyncio.to_thread(store.finish_message, self.name(), key, InboxState.API)
        menu = await asyncio.to_thread(store.menu, sender_id)
        self._in_background(self._deliver(sender_id, Rendered(pieces, menu or None)))
        return SUCCESS

    async def _answer_retry(self, message: Any, key: str, claim: InboxClaim) -> str:
        """A message seen before is never processed again; its passive reply is given again.

        WeChat retries only when it got no answer in 5 s, so the first reply was lost. If the
        first request is still being decided (it started late, e.g. queued), wait for it:
        within ``reply_seconds`` it either answers passively or hands over to the API.
        """
        deadline = time.monotonic() + self.reply_seconds + 0.5
        while claim.state == InboxState.PROCESSING.value and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            claim = await asyncio.to_thread(self.store.message_state, self.name(), key)  # type: ignore[union-attr]
        logger.info("%s retry of %s (%s) not processed again", self.name(), key[:12], claim.state)
        if claim.state == InboxState.PASSIVE.value and claim.reply:
            return self.reply_xml(message, claim.reply)
        return SUCCESS

    async def _run_turn(self, message: Any, key: str, sender_id: str, text: str,
                        on_new_message: OnNewMessage, arrived: float) -> str:
        store: ChannelService = self.store  # type: ignore[assignment]
        collector = CollectingOutputChannel()
        turn = asyncio.create_task(on_new_message(UserMessage(
            text, collector, sender_id, input_channel=self.name(), metadata={"channel": self.name()})))
        # reply_seconds 0: every answer goes through the API (no passive replies at all).
        left = arrived + self.reply_seconds - time.monotonic()
        done = (await asyncio.wait({turn}, timeout=left))[0] if self.reply_seconds > 0 and left > 0 else set()
        if turn in done and turn.exception() is None:
            rendered = render(collector.messages)
            if len(rendered.texts) <= 1:
                await asyncio.to_thread(store.set_menu, sender_id, rendered.menu, rendered.details)
                if not rendered.texts:
                    await asyncio.to_thread(store.finish_message, self.name(), key, InboxState.DONE)
                    return SUCCESS
                await asyncio.to_thread(store.finish_message, self.name(), key, InboxState.PASSIVE,
                                        rendered.texts[0])
                return self.reply_xml(message, rendered.texts[0])
        elif turn in done:
            raise turn.exception()  # type: ignore[misc]
        await asyncio.to_thread(store.finish_message, self.name(), key, InboxState.API)
        self._in_background(self._deliver_later(turn, collector, sender_id))
        return SUCCESS

    async def _deliver_later(self, turn: asyncio.Task, collector: CollectingOutputChannel,
                             sender_id: str) -> None:
        try:
            await turn
        except Exception:
            logger.exception("%s turn for %s failed after the passive window", self.name(), sender_id)
            collector.messages = [{"text": replies()["wechat_error"]}]
        await self._deliver(sender_id, render(collector.messages))

    async def _deliver(self, sender_id: str, rendered: Rendered) -> None:
        output = self.get_output_channel()
        if output is None:
            logger.error("%s cannot deliver a late answer to %s: no API configured", self.name(), sender_id)
            return
        try:
            await output.deliver(sender_id, rendered)  # type: ignore[attr-defined]
        except Exception as exc:
            logger.error("%s late answer to %s not delivered: %s", self.name(), sender_id, exc)

    def _in_background(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _purge_now_and_then(self, store: ChannelService) -> None:
        now = time.monotonic()
        if now - self._last_purge > PURGE_EVERY_SECONDS:
            self._last_purge = now
            self._in_background(asyncio.to_thread(store.purge_inbox, INBOX_KEEP))
            self._in_background(asyncio.to_thread(store.purge_details, DETAILS_KEEP))

    def sender_id(self, external_id: str) -> str:
        """Rasa's sender id: an HMAC under ``SENDER_KEY``, so logs and trackers do not carry the
        WeChat user id and no other channel can compute it."""
        if self._sender_key is None:
            from bot.config import load_settings

            self._sender_key = load_settings().sender_key
        return channel_sender_id(self.name(), external_id, self._sender_key)


def asks_details(text: str) -> bool:
    """The user replied "依据" (or "查看依据"), as the line under a calculation asks."""
    words = unicodedata.normalize("NFKC", text).strip().strip("。.!！?？“”\"'")
    return words in DETAILS_WORDS


def _event_turn(event: str) -> Callable[[Any], Turn]:
    return {
        "subscribe": lambda _m: Turn(text=GREETING, subscribed=True),
        "subscribe_scan": lambda _m: Turn(text=GREETING, subscribed=True),
        "unsubscribe": lambda _m: Turn(subscribed=False),
        "click": _click_turn,
    }.get(event, lambda _m: Turn())  # view, location report, scans: nothing to say


def _click_turn(message: Any) -> Turn:
    payload = click_payloads().get(message.key or "")
    return Turn(text=payload) if payload else Turn(reply=replies()["wechat_unknown_menu"])


def channel_store() -> ChannelService:
    """The shared store, on the database of the settings (``DATABASE_URL``)."""
    from bot.config import load_settings
    from bot.storage.db import Database

    return ChannelService(Database(load_settings().database_url))


def aes_crypto(cls: Any, token: str, aes_key: str, account_id: str, variable: str) -> Any:
    """wechatpy's crypto for safe mode; a malformed key stops start-up, naming the variable."""
    try:
        return cls(token, aes_key, account_id)
    except Exception as exc:  # wechatpy asserts the key decodes to 32 bytes
        raise ValueError(f"{variable} must be the 43-character EncodingAESKey from WeChat") from exc


def new_nonce() -> str:
    return secrets.token_hex(8)


def message_key(message: Any) -> str:
    """WeChat's identity of a delivery: MsgId, or sender + CreateTime (+ event) for events."""
    if message.type != "event" and message.id:
        raw = f"msg:{message.id}"
    else:
        raw = f"evt:{message.source}:{message.time}:{getattr(message, 'event', '')}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _args(request: Request) -> dict[str, str]:
    return {name: request.args.get(name, "") for name in request.args}
