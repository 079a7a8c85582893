"""The console's collaborators, built once per app (never at import) and shared by its views."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from flask import Flask, current_app

from bot.config import Settings
from bot.rasa_client import RasaClient
from bot.staff import StaffDesk
from bot.storage.accounts import AccountService
from bot.storage.db import Database
from bot.storage.models import Role
from bot.storage.services import ComplaintService, HandoffService

TEXTS = Path(__file__).resolve().parent / "texts.yml"


@dataclass
class Services:
    settings: Settings
    db: Database
    accounts: AccountService
    handoffs: HandoffService
    complaints: ComplaintService
    desk: StaffDesk


def init_app(app: Flask, settings: Settings) -> None:
    db = Database(settings.database_url)
    handoffs = HandoffService(db, claim_minutes=settings.handoff_claim_minutes)
    app.extensions["niangjia"] = Services(
        settings=settings, db=db, accounts=AccountService(db), handoffs=handoffs,
        complaints=ComplaintService(db),
        desk=StaffDesk(handoffs, RasaClient(settings.rasa_url, settings.rasa_token)))
    app.jinja_env.globals.update(say=say, Role=Role, has_endpoint=lambda name: name in app.view_functions)


def services() -> Services:
    return current_app.extensions["niangjia"]


@lru_cache(maxsize=1)
def _texts() -> dict[str, str]:
    return yaml.safe_load(TEXTS.read_text(encoding="utf-8"))


def say(key: str, **values: object) -> str:
    """A console message in Chinese (texts.yml), filled with ``values``."""
    template = _texts().get(key, key)
    return template.format(**values) if values else template
