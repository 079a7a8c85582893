"""The custom menu (data/knowledge/wechat_menu.yml): CLICK keys and WeChat's menu JSON."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

MENU_FILE = Path(__file__).resolve().parents[2] / "data" / "knowledge" / "wechat_menu.yml"


@lru_cache(maxsize=1)
def _menu() -> list[dict[str, Any]]:
    return yaml.safe_load(MENU_FILE.read_text(encoding="utf-8"))["menu"]


def click_payloads() -> dict[str, str]:
    """CLICK event key → the payload the bot runs."""
    return {b["key"]: b["payload"] for group in _menu() for b in group["buttons"]}


def menu_json() -> dict[str, Any]:
    """The body of WeChat's menu/create API (the same shape serves the WeCom app menu)."""
    return {"button": [
        {"name": group["name"],
         "sub_button": [{"type": "click", "name": b["name"], "key": b["key"]} for b in group["buttons"]]}
        for group in _menu()]}
