"""``niangjia purge`` (retention) and ``niangjia forget`` (a worker's erasure requested to staff)."""
from __future__ import annotations

import argparse
from datetime import timedelta
from typing import Callable

from bot.config import Settings
from bot.storage.conversations import Conversations
from bot.storage.db import Database
from bot.storage.models import utcnow
from bot.storage.privacy import PrivacyService

COMMANDS = ("purge", "forget")


def add_commands(sub: argparse._SubParsersAction) -> None:
    purge = sub.add_parser("purge", help="delete conversations older than RETENTION_DAYS (run daily)")
    purge.add_argument("--days", type=int, help="override RETENTION_DAYS")
    forget = sub.add_parser("forget", help="erase one worker's data (by Rasa sender id)")
    forget.add_argument("sender_id")


def run(args: argparse.Namespace, settings: Settings, out: Callable[[str], None] = print) -> int:
    db, conversations = Database(settings.database_url), Conversations(settings.tracker_url)
    try:
        if args.command == "purge":
            days = settings.retention_days if args.days is None else args.days
            if days <= 0:
                out("retention is off (RETENTION_DAYS=0): nothing purged")
                return 0
            before = utcnow() - timedelta(days=days)
            senders, events = conversations.purge(before)
            purged = PrivacyService(db).purge(before, actor="retention")
            out(f"older than {days} days: {senders} conversations ({events} events), "
                f"{purged.unrecognised} untaught messages, {purged.handoff_messages} handoff messages, "
                f"{purged.inbox} inbox entries purged")
        else:
            erased = PrivacyService(db).forget(args.sender_id)
            events = conversations.forget(args.sender_id)
            out(f"erased as {erased.erased_id}: {events} conversation events, {erased.complaints} complaints "
                f"anonymised, {erased.handoffs} handoffs, {erased.unrecognised} untaught messages, "
                f"{erased.profiles} profiles")
        return 0
    finally:
        db.dispose()
        conversations.dispose()
