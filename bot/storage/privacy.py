"""A worker's data: erased on request, and old conversations purged after the retention period.

What "delete my data" does to our tables, in one transaction (the conversation itself, in
Rasa's tracker store, is deleted by ``UrlSQLTrackerStore`` when the turn ends):

- complaints keep what the union needs for its statistics (employer, topic, region, status,
  dates) but lose the worker's phone, consent, description and "since when" text, and are
  unlinked from the sender (a random id replaces it, so status lookups no longer find them);
- handoffs keep their outcome (and rating) but lose the transcript's worker and staff texts, the
  slots the bot collected and the worker's comment on the rating; open ones are closed;
- messages the bot did not understand (the teaching inbox) and the WeChat/WeCom profile
  (openid mapping, last menu) are deleted;
- the audit log records what was erased under the random id, never the sender id.
"""
from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import yaml
from sqlalchemy import delete, select, update

from bot.storage.db import Database
from bot.storage.models import (ChannelInbox, ChannelUser, Complaint, Handoff, HandoffMessage,
                                HandoffStatus, utcnow)
from bot.storage.models_teaching import UnrecognisedMessage
from bot.storage.repositories import AuditRepository

_TEXTS = Path(__file__).with_name("privacy.yml")
# The slot action_forget_me sets; the tracker store then deletes the conversation.
FORGET_SLOT = "forget_me"


@lru_cache(maxsize=1)
def erased_text() -> str:
    """What staff see in place of erased text (the Chinese lives in privacy.yml)."""
    return yaml.safe_load(_TEXTS.read_text(encoding="utf-8"))["erased"]


@dataclass(frozen=True)
class Erased:
    """What one erasure changed: the random id that replaced the sender, and counts."""

    erased_id: str
    complaints: int
    handoffs: int
    handoff_messages: int
    unrecognised: int
    profiles: int


@dataclass(frozen=True)
class Purged:
    unrecognised: int
    handoff_messages: int
    inbox: int


class PrivacyService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def forget(self, sender_id: str) -> Erased:
        """Erase the worker's personal data from our tables (see the module's docstring)."""
        erased_id = f"erased-{uuid.uuid4().hex[:16]}"
        gone = erased_text()
        with self.db.transaction() as session:
            complaints = session.execute(
                update(Complaint).where(Complaint.sender_id == sender_id)
                .values(sender_id=erased_id, phone=None, consent_to_contact=False, description=gone,
                        since_text=gone, updated_at=utcnow())).rowcount
            handoff_ids = list(session.scalars(select(Handoff.id).where(Handoff.sender_id == sender_id)))
            messages = 0
            if handoff_ids:
                messages = session.execute(
                    update(HandoffMessage).where(HandoffMessage.handoff_id.in_(handoff_ids))
                    .values(text=gone)).rowcount
                session.execute(
                    update(Handoff).where(Handoff.id.in_(handoff_ids), Handoff.status != HandoffStatus.RESOLVED.value)
                    .values(status=HandoffStatus.RESOLVED.value, resolved_at=utcnow()))
                session.execute(update(Handoff).where(Handoff.id.in_(handoff_ids))
                                .values(sender_id=erased_id, slots={}, rating_comment=None))
            unrecognised = session.execute(
                delete(UnrecognisedMessage).where(UnrecognisedMessage.sender_id == sender_id)).rowcount
            profiles = session.execute(delete(ChannelUser).where(ChannelUser.sender_id == sender_id)).rowcount
            result = Erased(erased_id, complaints, len(handoff_ids), messages, unrecognised, profiles)
            detail = {k: v for k, v in asdict(result).items() if k != "erased_id"}
            AuditRepository(session).record("worker", "privacy.erase", "conversation", erased_id, detail)
        return result

    def purge(self, before: datetime, actor: str = "system") -> Purged:
        """Delete what is older than ``before``: untaught messages, resolved handoffs' transcripts
        and rating comments, the WeChat inbox (message keys and passive replies)."""
        with self.db.transaction() as session:
            unrecognised = session.execute(
                delete(UnrecognisedMessage).where(UnrecognisedMessage.received_at < before)).rowcount
            old_handoffs = select(Handoff.id).where(Handoff.status == HandoffStatus.RESOLVED.value,
                                                    Handoff.resolved_at < before)
            messages = session.execute(
                update(HandoffMessage).where(HandoffMessage.handoff_id.in_(old_handoffs),
                                             HandoffMessage.text != erased_text())
                .values(text=erased_text()), execution_options={"synchronize_session": False}).rowcount
            session.execute(update(Handoff).where(Handoff.id.in_(old_handoffs), Handoff.rating_comment.is_not(None))
                            .values(rating_comment=None), execution_options={"synchronize_session": False})
            inbox = session.execute(delete(ChannelInbox).where(ChannelInbox.created_at < before)).rowcount
            result = Purged(unrecognised, messages, inbox)
            AuditRepository(session).record(actor, "privacy.purge", "retention", before.date().isoformat(),
                                            asdict(result))
        return result
