"""``niangjia purge`` (retention) and ``niangjia forget`` (a worker's erasure requested to staff)."""
from __future__ import annotations

import argparse
import logging
import time
from datetime import timedelta
from typing import Callable

from bot.config import Settings
from bot.storage.conversations import Conversations
from bot.storage.db import Database
from bot.storage.models import utcnow
from bot.storage.privacy import PrivacyService

COMMANDS = ("purge", "forget")
logger = logging.getLogger(__name__)


def add_commands(sub: argparse._SubParsersAction) -> None:
    purge = sub.add_parser("purge", help="delete conversations older than RETENTION_DAYS (run daily)")
    purge.add_argument("--days", type=int, help="override RETENTION_DAYS")
    purge.add_argument("--every", type=_positive_hours, metavar="HOURS",
                       help="keep running: purge now and then every HOURS (make run: daily)")
    forget = sub.add_parser("forget", help="erase one worker's data (by Rasa sender id)")
    forget.add_argument("sender_id")


def _positive_hours(value: str) -> float:
    hours = float(value)
    if not hours > 0:
        raise argparse.ArgumentTypeError("HOURS must be more than 0")
    return hours


def run(args: argparse.Namespace, settings: Settings, out: Callable[[str], None] = print,
        sleep: Callable[[float], None] = time.sleep) -> int:
    if args.command == "purge" and args.every:
        return _purge_every(args, settings, out, sleep)
    return _run_once(args, settings, out)


def _purge_every(args: argparse.Namespace, settings: Settings, out: Callable[[str], None],
                 sleep: Callable[[float], None]) -> int:
    """Purge, then again every ``args.every`` hours; a failed pass (database down) waits for the next."""
    once = argparse.Namespace(**{**vars(args), "every": None})
    while True:
        try:
            _run_once(once, settings, out)
        except Exception:  # noqa: BLE001 - the next pass tries again; the loop must not die
            logger.exception("retention purge failed; next try in %s hours", args.every)
        sleep(args.every * 3600)


def _run_once(args: argparse.Namespace, settings: Settings, out: Callable[[str], None]) -> int:
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
