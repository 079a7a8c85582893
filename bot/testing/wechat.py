"""Both sides of WeChat for tests, benchmarks and staging, with wechatpy as the reference.

* :class:`WeChatServerSim` plays WeChat's servers calling our webhook: it builds real
  signed (and, in safe mode, AES-encrypted) requests with wechatpy and reads replies.
* :class:`FakeWeChatApi` plays WeChat's HTTP API (api.weixin.qq.com / qyapi.weixin.qq.com):
  an aiohttp server that issues and checks access tokens and records every message.
"""
from __future__ import annotations

import asyncio
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests
import xmltodict
from aiohttp import web
from wechatpy.crypto import WeChatCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WeComCrypto
from wechatpy.utils import WeChatSigner


def _signature(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


@dataclass
class WeChatServerSim:
    """WeChat's side of the callback protocol for one Official Account or WeCom app."""

    webhook_url: str
    token: str
    account_id: str  # AppID, or CorpID for WeCom
    aes_key: str | None = None
    wecom: bool = False
    agent_id: int = 1000002
    _next_id: int = field(default_factory=lambda: int(time.time() * 1000) * 1000)

    @property
    def crypto(self) -> Any:
        if not self.aes_key:
            return None
        cls = WeComCrypto if self.wecom else WeChatCrypto
        return cls(self.token, self.aes_key, self.account_id)

    def new_msg_id(self) -> int:
        self._next_id += 1
        return self._next_id

    # -- messages ----------------------------------------------------------------------------
    def xml(self, user: str, msg_type: str, create_time: int | None = None, **fields: Any) -> str:
        body: dict[str, Any] = {"ToUserName": self.account_id, "FromUserName": user,
                                "CreateTime": create_time or int(time.time()), "MsgType": msg_type}
        if self.wecom:
            body["AgentID"] = self.agent_id
        body.update(fields)
        return xmltodict.unparse({"xml": body}, full_document=False)

    def text(self, user: str, content: str, msg_id: int | None = None) -> str:
        return self.xml(user, "text", Content=content, MsgId=msg_id or self.new_msg_id())

    def event(self, user: str, event: str, key: str | None = None, create_time: int | None = None) -> str:
        extra = {"EventKey": key} if key is not None else {}
        return self.xml(user, "event", create_time=create_time, Event=event, **extra)

    # -- requests ----------------------------------------------------------------------------
    def signed(self, xml: str, timestamp: int | None = None, nonce: str | None = None) -> tuple[dict, bytes]:
        """Query parameters and body of the request WeChat would send for ``xml``."""
        stamp = str(timestamp or int(time.time()))
        nonce = nonce or secrets.token_hex(5)
        params: dict[str, str] = {"timestamp": stamp, "nonce": nonce}
        if not self.wecom:
            params["signature"] = _signature(self.token, stamp, nonce)
            sender = re.search(r"<FromUserName>(?:<!\[CDATA\[)?([^<\]]*)", xml)
            params["openid"] = sender.group(1) if sender else ""
        if self.crypto is None:
            return params, xml.encode("utf-8")
        envelope = self.crypto.encrypt_message(xml, nonce, stamp)
        parsed = xmltodict.parse(envelope)["xml"]
        params["msg_signature"] = parsed["MsgSignature"]
        if not self.wecom:
            params["encrypt_type"] = "aes"
        body = xmltodict.unparse({"xml": {"ToUserName": self.account_id, "Encrypt": parsed["Encrypt"]}},
                                 full_document=False)
        return params, body.encode("utf-8")

    def post(self, xml: str, timeout: float = 15, **kwargs: Any) -> requests.Response:
        params, body = self.signed(xml, **kwargs)
        return requests.post(self.webhook_url, params=params, data=body, timeout=timeout,
                             headers={"Content-Type": "text/xml"})

    def reply_text(self, response_body: str) -> str | None:
        """The text of a passive reply, decrypted in safe mode; None for "success" or empty."""
        body = response_body.strip()
        if not body or body == "success":
            return None
        message = xmltodict.parse(body)["xml"]
        if "Encrypt" in message:
            plain = self.crypto.decrypt_message(body, message["MsgSignature"], message["TimeStamp"],
                                                message["Nonce"])
            message = xmltodict.parse(plain)["xml"]
        return message.get("Content")

    def handshake_params(self, echo: str) -> dict[str, str]:
        stamp, nonce = str(int(time.time())), secrets.token_hex(5)
        if not self.wecom:
            return {"signature": _signature(self.token, stamp, nonce), "timestamp": stamp,
                    "nonce": nonce, "echostr": echo}
        from wechatpy.enterprise.crypto import PrpCrypto

        encrypted = PrpCrypto(self.crypto.key).encrypt(echo, self.account_id).decode()
        return {"msg_signature": _signature(self.token, stamp, nonce, encrypted), "timestamp": stamp,
                "nonce": nonce, "echostr": encrypted}


@dataclass
class Sent:
    path: str
    touser: str
    text: str
    at: float


class FakeWeChatApi:
    """WeChat's API on localhost: tokens, customer-service / app messages, failures on demand."""

    def __init__(self, app_id: str, app_secret: str, corp_id: str = "", corp_secret: str = "",
                 expires_in: int = 7200) -> None:
        self.credentials = {app_id: app_secret, corp_id: corp_secret}
        self.expires_in = expires_in
        self.tokens: dict[str, float] = {}
        self.token_fetches = 0
        self.sent: list[Sent] = []
        self.closed_windows: set[str] = set()
        self.failures: list[int] = []  # HTTP statuses (or -1: errcode "system busy") to answer next
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- controls ----------------------------------------------------------------------------
    def expire_tokens(self) -> None:
        with self._lock:
            self.tokens.clear()

    def messages_to(self, user: str) -> list[str]:
        with self._lock:
            return [s.text for s in self.sent if s.touser == user]

    def wait_for(self, user: str, needle: str, timeout: float = 30) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            texts = self.messages_to(user)
            if any(needle in t for t in texts):
                return texts
            time.sleep(0.1)
        raise AssertionError(f"{needle!r} never sent to {user}: {self.messages_to(user)}")

    # -- server ------------------------------------------------------------------------------
    def start(self) -> "FakeWeChatApi":
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self._token)
        app.router.add_get("/cgi-bin/gettoken", self._token)
        app.router.add_post("/cgi-bin/message/custom/send", self._send)
        app.router.add_post("/cgi-bin/message/send", self._send)
        started = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self._loop)
            self._runner = web.AppRunner(app, access_log=None)
            self._loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            self._loop.run_until_complete(site.start())
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            self.url = f"http://127.0.0.1:{port}"
            started.set()
            self._loop.run_forever()

        threading.Thread(target=serve, daemon=True).start()
        started.wait(10)
        return self

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)

    def _failure(self) -> web.Response | None:
        with self._lock:
            status = self.failures.pop(0) if self.failures else None
        if status is None:
            return None
        if status == -1:
            return web.json_response({"errcode": -1, "errmsg": "system error"})
        return web.Response(status=status, text="unavailable")

    async def _token(self, request: web.Request) -> web.Response:
        failure = self._failure()
        if failure is not None:
            return failure
        account = request.query.get("appid") or request.query.get("corpid") or ""
        secret = request.query.get("secret") or request.query.get("corpsecret") or ""
        if not account or self.credentials.get(account) != secret:
            return web.json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
        token = secrets.token_urlsafe(24)
        with self._lock:
            self.token_fetches += 1
            self.tokens[token] = time.time() + self.expires_in
        return web.json_response({"access_token": token, "expires_in": self.expires_in})

    async def _send(self, request: web.Request) -> web.Response:
        failure = self._failure()
        if failure is not None:
            return failure
        token = request.query.get("access_token", "")
        with self._lock:
            expiry = self.tokens.get(token)
        if expiry is None:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        if expiry < time.time():
            return web.json_response({"errcode": 42001, "errmsg": "access_token expired"})
        body = await request.json()
        user, text = body.get("touser", ""), (body.get("text") or {}).get("content", "")
        if user in self.closed_windows:
            return web.json_response({"errcode": 45015, "errmsg": "response out of time limit"})
        if len(text.encode("utf-8")) > 2048:
            return web.json_response({"errcode": 45002, "errmsg": "content size out of limit"})
        with self._lock:
            self.sent.append(Sent(request.path, user, text, time.time()))
        return web.json_response({"errcode": 0, "errmsg": "ok"})
