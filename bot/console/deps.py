"""The console's collaborators, built once per app (never at import) and shared by its views."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

import yaml
from flask import Flask, current_app

from bot import logmask
from bot.analytics import Analytics
from bot.config import Settings
from bot.rasa_client import RasaClient
from bot.staff import StaffDesk
from bot.storage.accounts import AccountService, Scope
from bot.storage.conversations import Conversations
from bot.storage.db import Database
from bot.storage.models import Role
from bot.storage.services import ComplaintService, HandoffService

TEXTS_DIR = Path(__file__).resolve().parent
# texts.yml, plus texts_<feature>.yml of a blueprint that has many.
CHINA_TIME = timedelta(hours=8)  # staff count days and read times in Beijing time
WARNING_WINDOW = timedelta(days=7)
WARNING_THRESHOLD = 3


@dataclass
class Services:
    settings: Settings
    db: Database
    accounts: AccountService
    handoffs: HandoffService
    complaints: ComplaintService
    desk: StaffDesk
    analytics: Analytics
    conversations: Conversations  # what the bot knows of a worker, for routing the teaching inbox

    def early_warnings(self, scope: Scope) -> list[dict]:
        """Employers with a cluster of recent complaints in ``scope`` (the queue and dashboard show them)."""
        found = self.analytics.early_warnings(window=WARNING_WINDOW, threshold=WARNING_THRESHOLD, unit_ids=scope)
        return [{"employer": w.employer, "count": w.count, "days": WARNING_WINDOW.days,
                 "latest": (w.latest_at + CHINA_TIME).strftime("%m-%d %H:%M"), "tickets": list(w.tickets)}
                for w in found]


def init_app(app: Flask, settings: Settings) -> None:
    db = Database(settings.database_url)
    handoffs = HandoffService(db, claim_minutes=settings.handoff_claim_minutes,
                              crisis_claim_minutes=settings.crisis_claim_minutes)
    analytics = Analytics(db, settings.tracker_url, day_offset=CHINA_TIME)
    app.extensions["niangjia"] = Services(
        settings=settings, db=db, accounts=AccountService(db), handoffs=handoffs,
        complaints=ComplaintService(db),
        desk=StaffDesk(handoffs, RasaClient(settings.rasa_url, settings.rasa_token)),
        analytics=analytics, conversations=Conversations(settings.tracker_url, analytics.tracker))
    from bot.console.labels import channel_label, shown_text  # labels reads the texts of this module

    app.jinja_env.globals.update(say=say, action_label=action_label, Role=Role,
                                 channel_label=channel_label, shown_text=shown_text,
                                 has_endpoint=lambda name: name in app.view_functions)
    app.jinja_env.filters["local"] = local_time
    app.jinja_env.filters["masked"] = logmask.mask  # a worker's phone or ID number typed into a message


def local_time(moment: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """A stored (naive UTC) time as staff read it: Beijing time."""
    return (moment + CHINA_TIME).strftime(pattern) if moment else ""


def services() -> Services:
    return current_app.extensions["niangjia"]


@lru_cache(maxsize=1)
def _texts() -> dict[str, str]:
    texts: dict[str, str] = {}
    for path in sorted(TEXTS_DIR.glob("texts*.yml")):
        texts.update(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    return texts


def known_text(key: str) -> str | None:
    """The console text ``key`` if there is one (unfilled), else None."""
    return _texts().get(key)


def labelled(prefix: str) -> dict[str, str]:
    """Every console text whose key starts with ``prefix``, by the rest of its key (the names it labels)."""
    return {key[len(prefix):]: text for key, text in _texts().items() if key.startswith(prefix)}


def action_label(action: str) -> str:
    """An audit entry's action in Chinese (``action_<action>`` in the texts); unknown ones keep their name."""
    return _texts().get(f"action_{action}", action)


def say(key: str, **values: object) -> str:
    """A console message in Chinese (texts.yml), filled with ``values``."""
    template = _texts().get(key, key)
    return template.format(**values) if values else template
