"""WeCom (企业微信) self-built application channel, on ``wechatpy.enterprise``.

Register in credentials.yml as ``bot.channels.wecom.WeComInput``; the webhook is
``/webhooks/wecom/webhook``. WeCom always encrypts (token + EncodingAESKey are
required); it signs with ``msg_signature`` only and has no 48-hour limit on app messages.
"""
from __future__ import annotations

from typing import Any

from wechatpy.enterprise import parse_message
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.replies import TextReply

from bot.channels.wechat_api import ApiSpec, WeChatApiClient
from bot.channels.wechat_base import RequestRefused, WeChatStyleInput, aes_crypto, channel_store, new_nonce

API_BASE = "https://qyapi.weixin.qq.com"
# 81013: the user is not in the app's visible range (left the company, or never added).
REFUSED = frozenset({81013})


class WeComInput(WeChatStyleInput):
    plain_signature = False
    delivery_window = None

    @classmethod
    def name(cls) -> str:
        return "wecom"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> "WeComInput":
        creds = {k: "" if v is None else str(v).strip() for k, v in (credentials or {}).items()}
        token, corp_id, aes_key = creds.get("token", ""), creds.get("corp_id", ""), creds.get("encoding_aes_key", "")
        agent_id = creds.get("agent_id", "")
        if not (token and aes_key):
            return cls("", corp_id, None, None, None)  # not configured: the webhook answers 404
        store = channel_store()
        spec = ApiSpec(channel=cls.name(), token_path="/cgi-bin/gettoken",
                       token_params={"corpid": corp_id, "corpsecret": creds.get("secret", "")},
                       send_path="/cgi-bin/message/send", refused=REFUSED,
                       agent_id=int(agent_id) if agent_id.isdigit() else None)
        api = WeChatApiClient(spec, creds.get("api_base") or API_BASE, store)
        crypto = aes_crypto(WeChatCrypto, token, aes_key, corp_id, "WECOM_AES_KEY")
        return cls(token, f"{corp_id}:{agent_id}", crypto, api, store, float(creds.get("reply_seconds") or 4.0))

    def handshake(self, args: dict[str, str]) -> str:
        self.check_timestamp(args)
        echo = args.get("echostr", "")
        self.check_signature(args.get("msg_signature"), args["timestamp"], args["nonce"], echo)
        try:
            return self.crypto.check_signature(args["msg_signature"], args["timestamp"], args["nonce"], echo)
        except Exception as exc:
            raise RequestRefused(400, f"cannot decrypt echostr ({type(exc).__name__})") from exc

    def parse(self, xml: str) -> Any:
        return parse_message(xml)

    def reply_xml(self, message: Any, text: str) -> str:
        xml = TextReply(message=message, content=text).render()
        return self.crypto.encrypt_message(xml, new_nonce(), None)
