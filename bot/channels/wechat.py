"""WeChat Official Account (公众号) channel, on wechatpy.

Register in credentials.yml as ``bot.channels.wechat.WeChatInput``; the webhook is
``/webhooks/wechat/webhook`` (GET: URL handshake, POST: messages). Without
``encoding_aes_key`` the account must be in plain mode (明文模式); with it, in safe mode
(安全模式): every message must then be AES-encrypted and is answered encrypted.
"""
from __future__ import annotations

from typing import Any

from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.replies import TextReply

from bot.channels.wechat_api import ApiSpec, WeChatApiClient
from bot.channels.wechat_base import RequestRefused, WeChatStyleInput, aes_crypto, channel_store, new_nonce

API_BASE = "https://api.weixin.qq.com"
# 45015: more than 48 hours since the user's last message; 45047: too many messages since it.
REFUSED = frozenset({45015, 45047})


class WeChatInput(WeChatStyleInput):
    @classmethod
    def name(cls) -> str:
        return "wechat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> "WeChatInput":
        creds = {k: "" if v is None else str(v).strip() for k, v in (credentials or {}).items()}
        token, app_id, aes_key = creds.get("token", ""), creds.get("app_id", ""), creds.get("encoding_aes_key", "")
        if not token:
            return cls("", app_id, None, None, None)  # not configured: the webhook answers 404
        store = channel_store()
        spec = ApiSpec(channel=cls.name(), token_path="/cgi-bin/token",
                       token_params={"grant_type": "client_credential", "appid": app_id,
                                     "secret": creds.get("app_secret", "")},
                       send_path="/cgi-bin/message/custom/send", refused=REFUSED)
        api = WeChatApiClient(spec, creds.get("api_base") or API_BASE, store)
        crypto = aes_crypto(WeChatCrypto, token, aes_key, app_id, "WECHAT_AES_KEY") if aes_key else None
        return cls(token, app_id, crypto, api, store, float(creds.get("reply_seconds") or 4.0))

    def handshake(self, args: dict[str, str]) -> str:
        self.check_timestamp(args)
        self.check_signature(args.get("signature"), args["timestamp"], args["nonce"])
        echo = args.get("echostr", "")
        if not echo:
            raise RequestRefused(400, "missing echostr")
        return echo

    def parse(self, xml: str) -> Any:
        return parse_message(xml)

    def reply_xml(self, message: Any, text: str) -> str:
        xml = TextReply(message=message, content=text).render()
        if self.crypto is None:
            return xml
        return self.crypto.encrypt_message(xml, new_nonce(), None)

