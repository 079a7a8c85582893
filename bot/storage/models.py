"""Table mappings. Rasa's tracker store keeps its own ``events`` table, not mapped here."""
from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (JSON, Boolean, Column, DateTime, Float, ForeignKey, Index, Integer,
                        MetaData, String, Text, UniqueConstraint)
from sqlalchemy.orm import declarative_base, relationship

# Stable constraint names, so Alembic migrations behave the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
Base: Any = declarative_base(metadata=MetaData(naming_convention=NAMING))


def utcnow() -> datetime:
    """Naive UTC: stored the same way on SQLite and PostgreSQL."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Priority(enum.IntEnum):
    """Lower value = served first."""

    CRISIS = 1
    URGENT = 2
    NORMAL = 3


class ComplaintStatus(str, enum.Enum):
    NEW = "new"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    REJECTED = "rejected"


class HandoffStatus(str, enum.Enum):
    OPEN = "open"
    CLAIMED = "claimed"
    RESOLVED = "resolved"


class MessageRole(str, enum.Enum):
    WORKER = "worker"
    BOT = "bot"
    STAFF = "staff"
    NOTE = "note"
    # An automatic message to the worker about their handoff ("工会的李干事已接入"): delivered like a
    # staff reply, but no staff reply (the escalation figures count only those).
    NOTICE = "notice"


class Role(str, enum.Enum):
    """Console roles; each includes what the ones before it may do."""

    STAFF = "staff"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)


class OrgUnit(Base):
    """A union body (市总工会 → 区工会 → 企业工会); staff see their unit's work and the units below.

    ``regions`` and ``employers`` route a worker's handoff or complaint to the unit that covers
    them (the most specific unit whose employer or region matches).
    """

    __tablename__ = "org_units"

    id = Column(Integer, primary_key=True)
    name = Column(String(100), nullable=False, unique=True)
    parent_id = Column(Integer, ForeignKey("org_units.id"))
    regions = Column(JSON, nullable=False, default=list)
    employers = Column(JSON, nullable=False, default=list)
    created_at = Column(DateTime(), nullable=False, default=utcnow)


class StaffUser(Base):
    __tablename__ = "staff_users"

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, unique=True)
    display_name = Column(String(100), nullable=False)
    role = Column(String(20), nullable=False, default=Role.STAFF.value)
    org_unit_id = Column(Integer, ForeignKey("org_units.id"))
    password_hash = Column(String(255))
    active = Column(Boolean, nullable=False, default=True)
    last_login_at = Column(DateTime())
    # Console sessions started before this are over (logout, password change): the session
    # cookie is signed, not stored, so a copied cookie would otherwise live on.
    sessions_valid_after = Column(DateTime())
    created_at = Column(DateTime(), nullable=False, default=utcnow)

    org_unit = relationship(OrgUnit, lazy="joined")


class LoginThrottle(Base):
    """Recent failed logins of one account name, client address or browser (``key``: a hash, since
    people type a password into the name field by mistake). Shared by every web worker."""

    __tablename__ = "login_throttle"

    key = Column(String(64), primary_key=True)
    failures = Column(Integer, nullable=False, default=0)
    last_failed_at = Column(DateTime(), nullable=False, index=True)


class Complaint(Base):
    __tablename__ = "complaints"

    id = Column(Integer, primary_key=True)
    ticket = Column(String(32), nullable=False, unique=True)
    sender_id = Column(String(255), nullable=False, index=True)
    channel = Column(String(50))
    employer = Column(String(200), nullable=False)
    topic = Column(String(50), nullable=False)
    description = Column(Text, nullable=False)
    since_text = Column(String(200), nullable=False)
    workers_affected = Column(Integer, nullable=False, default=1)
    phone = Column(String(32))
    consent_to_contact = Column(Boolean, nullable=False, default=False)
    priority = Column(Integer, nullable=False, default=Priority.NORMAL)
    status = Column(String(20), nullable=False, default=ComplaintStatus.NEW.value)
    status_reason = Column(Text)
    region = Column(String(50))
    org_unit_id = Column(Integer, ForeignKey("org_units.id"), index=True)
    assigned_to_id = Column(Integer, ForeignKey("staff_users.id"))
    # Hash of sender + content: the same complaint submitted twice is stored once.
    dedupe_key = Column(String(64), nullable=False, unique=True)
    created_at = Column(DateTime(), nullable=False, default=utcnow)
    updated_at = Column(DateTime(), nullable=False, default=utcnow)

    assigned_to = relationship(StaffUser, lazy="joined")
    org_unit = relationship(OrgUnit, lazy="joined")
    notes = relationship("ComplaintNote", order_by="ComplaintNote.id", lazy="selectin")


class ComplaintNote(Base):
    """Internal note on a complaint (never shown to the worker)."""

    __tablename__ = "complaint_notes"

    id = Column(Integer, primary_key=True)
    complaint_id = Column(Integer, ForeignKey("complaints.id", ondelete="CASCADE"), nullable=False, index=True)
    staff_id = Column(Integer, ForeignKey("staff_users.id"), nullable=False)
    text = Column(Text, nullable=False)
    at = Column(DateTime(), nullable=False, default=utcnow)

    staff = relationship(StaffUser, lazy="joined")


class Handoff(Base):
    __tablename__ = "handoffs"

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False, index=True)
    channel = Column(String(50))
    reason = Column(String(30), nullable=False)
    urgency = Column(String(30))
    priority = Column(Integer, nullable=False, default=Priority.NORMAL)
    status = Column(String(20), nullable=False, default=HandoffStatus.OPEN.value)
    slots = Column(JSON, nullable=False, default=dict)
    claimed_by_id = Column(Integer, ForeignKey("staff_users.id"))
    org_unit_id = Column(Integer, ForeignKey("org_units.id"), index=True)
    claimed_at = Column(DateTime())
    resolved_at = Column(DateTime())
    # Left unclaimed past the claim limit of its priority: flagged, its unit's supervisors alerted.
    flagged_at = Column(DateTime())
    # When the waiting worker was last told their message arrived (bot.channels.waiting).
    acknowledged_at = Column(DateTime())
    rating = Column(Integer)
    rated_at = Column(DateTime())
    # What the worker wrote about a poor rating (free text, stored with the rating).
    rating_comment = Column(Text)
    # A supervisor's review of the handled handoff (the escalations page).
    reviewed_at = Column(DateTime())
    reviewed_by_id = Column(Integer, ForeignKey("staff_users.id"))
    review_note = Column(Text)
    created_at = Column(DateTime(), nullable=False, default=utcnow)

    claimed_by = relationship(StaffUser, lazy="joined", foreign_keys=[claimed_by_id])
    reviewed_by = relationship(StaffUser, lazy="joined", foreign_keys=[reviewed_by_id])
    org_unit = relationship(OrgUnit, lazy="joined")
    messages = relationship("HandoffMessage", order_by="HandoffMessage.id",
                            back_populates="handoff", lazy="selectin")

    __table_args__ = (
        # At most one unresolved handoff per worker, also under concurrent requests.
        Index("uq_handoffs_open_sender", "sender_id", unique=True,
              sqlite_where=Column("status") != HandoffStatus.RESOLVED.value,
              postgresql_where=Column("status") != HandoffStatus.RESOLVED.value),
    )


class HandoffMessage(Base):
    __tablename__ = "handoff_messages"

    id = Column(Integer, primary_key=True)
    handoff_id = Column(Integer, ForeignKey("handoffs.id", ondelete="CASCADE"), nullable=False, index=True)
    role = Column(String(10), nullable=False)
    text = Column(Text, nullable=False)
    sent_at = Column(DateTime(), nullable=False, default=utcnow)
    # Timestamp of the Rasa tracker event this message came from (dedupes re-syncs).
    event_ts = Column(Float)
    staff_id = Column(Integer, ForeignKey("staff_users.id"))
    delivered = Column(Boolean)
    delivery_error = Column(String(200))

    handoff = relationship(Handoff, back_populates="messages")
    staff = relationship(StaffUser, lazy="joined")

    __table_args__ = (UniqueConstraint("handoff_id", "role", "event_ts", name="uq_handoff_messages_event"),)


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id = Column(Integer, primary_key=True)
    at = Column(DateTime(), nullable=False, default=utcnow, index=True)
    actor = Column(String(100), nullable=False)
    action = Column(String(50), nullable=False)
    object_type = Column(String(30), nullable=False)
    object_id = Column(String(64), nullable=False)
    detail = Column(JSON, nullable=False, default=dict)


class InboxState(str, enum.Enum):
    """How far an incoming WeChat/WeCom message has got (see bot/channels/wechat_base.py)."""

    PROCESSING = "processing"
    PASSIVE = "passive"  # answered in the HTTP response; a retry gets the same reply again
    API = "api"  # answered (or being answered) through the customer-service message API
    DONE = "done"  # nothing to say (events, a paused conversation)


class ChannelInbox(Base):
    """One row per message WeChat delivered: the cross-process guard against its retries."""

    __tablename__ = "channel_inbox"

    id = Column(Integer, primary_key=True)
    channel = Column(String(20), nullable=False)
    message_key = Column(String(64), nullable=False)  # sha256 of MsgId, or sender + CreateTime
    state = Column(String(20), nullable=False, default=InboxState.PROCESSING.value)
    reply = Column(Text)
    created_at = Column(DateTime(), nullable=False, default=utcnow, index=True)
    updated_at = Column(DateTime(), nullable=False, default=utcnow)

    __table_args__ = (UniqueConstraint("channel", "message_key", name="uq_channel_inbox_key"),)


class ChannelUser(Base):
    """A WeChat/WeCom user behind a Rasa sender id (the id itself is a hash of theirs)."""

    __tablename__ = "channel_users"

    id = Column(Integer, primary_key=True)
    channel = Column(String(20), nullable=False)
    sender_id = Column(String(64), nullable=False, unique=True)
    external_id = Column(String(128), nullable=False)
    subscribed = Column(Boolean, nullable=False, default=True)
    last_inbound_at = Column(DateTime())
    # Payloads of the numbered options last shown, so a reply "2" means the second one.
    menu = Column(JSON)
    # The working and statutes behind the last calculation, sent when the user replies "依据".
    details = Column(Text)
    details_at = Column(DateTime())
    updated_at = Column(DateTime(), nullable=False, default=utcnow)

    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_channel_users_external"),)


class ChannelToken(Base):
    """The access token of a channel's API, shared by every process that sends."""

    __tablename__ = "channel_tokens"

    channel = Column(String(20), primary_key=True)
    access_token = Column(Text, nullable=False)
    expires_at = Column(DateTime(), nullable=False)
    updated_at = Column(DateTime(), nullable=False, default=utcnow)
