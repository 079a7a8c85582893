"""The outbound WeChat API client against a fake WeChat API that checks tokens."""
from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest

from bot.channels.wechat import REFUSED, WeChatInput
from bot.channels.wechat_api import ApiSpec, DeliveryWindowClosed, WeChatApiClient, WeChatApiError
from bot.storage.channels import ChannelService
from bot.storage.db import Database
from bot.storage.migrate import upgrade
from bot.storage.models import utcnow
from bot.testing.wechat import FakeWeChatApi

APP_ID, SECRET = "wxapitest", "very-secret-value"


@pytest.fixture
def fake_api():
    api = FakeWeChatApi(APP_ID, SECRET).start()
    yield api
    api.stop()


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'api.db'}"
    upgrade(url)
    return url


def _client(fake_api: FakeWeChatApi, url: str, secret: str = SECRET, **kwargs) -> WeChatApiClient:
    spec = ApiSpec(channel=WeChatInput.name(), token_path="/cgi-bin/token",
                   token_params={"grant_type": "client_credential", "appid": APP_ID, "secret": secret},
                   send_path="/cgi-bin/message/custom/send", refused=REFUSED)
    return WeChatApiClient(spec, fake_api.url, ChannelService(Database(url)), backoff=0.01, **kwargs)


async def test_token_is_fetched_once_and_shared_between_processes(fake_api, url) -> None:
    first, second = _client(fake_api, url), _client(fake_api, url)  # two processes, one database
    for client in (first, second, first):
        await client.send_text("openid-1", "你好")
    assert fake_api.token_fetches == 1
    assert fake_api.messages_to("openid-1") == ["你好"] * 3


async def test_token_is_refreshed_before_it_expires(fake_api, url) -> None:
    now = [utcnow()]
    client = _client(fake_api, url, clock=lambda: now[0])
    await client.send_text("openid-1", "一")
    now[0] += timedelta(seconds=7200 - 200)  # inside the 5-minute margin
    await client.send_text("openid-1", "二")
    assert fake_api.token_fetches == 2


async def test_a_refused_token_is_replaced_once(fake_api, url) -> None:
    client = _client(fake_api, url)
    await client.send_text("openid-1", "一")
    fake_api.expire_tokens()  # WeChat invalidated it (another system fetched a new one, ...)
    await client.send_text("openid-1", "二")
    assert fake_api.token_fetches == 2
    assert fake_api.messages_to("openid-1") == ["一", "二"]


async def test_transient_failures_are_retried_with_backoff(fake_api, url) -> None:
    client = _client(fake_api, url)
    fake_api.failures = [503, -1]  # token call gets 503, then "system busy"
    await client.send_text("openid-1", "终于到了")
    assert fake_api.messages_to("openid-1") == ["终于到了"]
    fake_api.failures = [500, 500, 500]
    with pytest.raises(WeChatApiError, match="unreachable"):
        await client.send_text("openid-1", "到不了")


async def test_closed_window_and_bad_secret_are_reported(fake_api, url) -> None:
    fake_api.closed_windows.add("openid-2")
    with pytest.raises(DeliveryWindowClosed):
        await _client(fake_api, url).send_text("openid-2", "晚了")
    ChannelService(Database(url)).drop_token("wechat", ChannelService(Database(url)).token("wechat")[0])
    with pytest.raises(WeChatApiError, match="token refused"):
        await _client(fake_api, url, secret="wrong").send_text("openid-1", "x")


async def test_no_secret_token_or_text_in_logs(fake_api, url, caplog) -> None:
    caplog.set_level(logging.INFO)
    client = _client(fake_api, url)
    fake_api.failures = [500]
    await client.send_text("openid-1", "私密的投诉内容")
    fake_api.expire_tokens()
    await client.send_text("openid-1", "私密的投诉内容")
    logged = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    assert "token" in logged  # it did log what happened...
    tokens = ChannelService(Database(url)).token("wechat")
    for secret in (SECRET, tokens[0], "私密的投诉内容"):  # ...without the secrets
        assert secret not in logged
