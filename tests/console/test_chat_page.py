"""The web app serves the workers' chat page and its assets."""
from __future__ import annotations

import pytest

from bot.config import load_settings
from bot.console import create_app


@pytest.fixture
def client(tmp_path):
    settings = load_settings({"NIANGJIA_VAR_DIR": str(tmp_path), "RASA_TOKEN": "t",
                              "RASA_PUBLIC_URL": "http://chat.example:5005"})
    return create_app(settings).test_client()


def test_chat_page_is_chinese_mobile_and_points_at_rasa(client):
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'lang="zh-CN"' in html and 'name="viewport"' in html
    assert "职工权益咨询" in html and "12351" in html
    assert '"http://chat.example:5005"' in html
    assert "/vendor/socket.io.min.js" in html and "chat.js" in html


def test_socketio_client_is_served_from_npm_install(client):
    script = client.get("/vendor/socket.io.min.js")
    assert script.status_code == 200
    assert b"socket.io" in script.data[:200].lower() or len(script.data) > 10_000


def test_unknown_vendor_file_is_404(client):
    assert client.get("/vendor/../../etc/passwd").status_code == 404
    assert client.get("/vendor/evil.js").status_code == 404


def test_chat_script_never_injects_html(client):
    script = client.get("/static/chat.js").get_data(as_text=True)
    assert "innerHTML" not in script and "textContent" in script


def test_health(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
