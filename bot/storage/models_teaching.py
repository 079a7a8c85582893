"""Tables for teaching the bot: staff-made FAQs (versioned), labelled examples, the
unrecognised-messages inbox and the publish-and-retrain jobs."""
from __future__ import annotations

import enum

from sqlalchemy import (JSON, Boolean, Column, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint,
                        false)
from sqlalchemy.orm import relationship

from bot.storage.models import Base, StaffUser, utcnow


class FaqStatus(str, enum.Enum):
    DRAFT = "draft"  # saved, not in the live model yet
    PUBLISHED = "published"  # its latest version is in the live model
    RETIRED = "retired"  # removed from the next model


class FaqEntry(Base):
    """A staff-made question and answer; the bot learns it as the retrieval intent ``faq/<slug>``."""

    __tablename__ = "faq_entries"

    id = Column(Integer, primary_key=True)
    slug = Column(String(40), nullable=False, unique=True)
    status = Column(String(20), nullable=False, default=FaqStatus.DRAFT.value)
    # Version number that is live (None: never published).
    published_version = Column(Integer)
    created_at = Column(DateTime(), nullable=False, default=utcnow)
    updated_at = Column(DateTime(), nullable=False, default=utcnow)

    versions = relationship("FaqVersion", order_by="FaqVersion.number", lazy="selectin",
                            back_populates="faq")

    @property
    def current(self) -> "FaqVersion":
        return self.versions[-1]


class FaqVersion(Base):
    """Every edit is a new version: who changed what, and when, stays visible."""

    __tablename__ = "faq_versions"

    id = Column(Integer, primary_key=True)
    faq_id = Column(Integer, ForeignKey("faq_entries.id", ondelete="CASCADE"), nullable=False, index=True)
    number = Column(Integer, nullable=False)
    title = Column(String(200), nullable=False)
    questions = Column(JSON, nullable=False, default=list)
    answer = Column(Text, nullable=False)
    basis = Column(Text, nullable=False, default="")
    author_id = Column(Integer, ForeignKey("staff_users.id"), nullable=False)
    created_at = Column(DateTime(), nullable=False, default=utcnow)
    # A supervisor or admin other than the authors of the change checked what workers will read
    # (answer and basis); only then may it be published (bot.storage.teaching.pending_approval).
    approved_by_id = Column(Integer, ForeignKey("staff_users.id"))
    approved_at = Column(DateTime())

    faq = relationship(FaqEntry, back_populates="versions")
    author = relationship(StaffUser, foreign_keys=[author_id], lazy="joined")
    approved_by = relationship(StaffUser, foreign_keys=[approved_by_id], lazy="joined")

    __table_args__ = (UniqueConstraint("faq_id", "number", name="uq_faq_versions_number"),)


class TrainingExample(Base):
    """A worker's wording that staff labelled with a topic (or a staff FAQ)."""

    __tablename__ = "training_examples"

    id = Column(Integer, primary_key=True)
    text = Column(Text, nullable=False)
    # A topic id (``wage_arrears``) or ``faq/<slug>``.
    intent = Column(String(80), nullable=False)
    created_by_id = Column(Integer, ForeignKey("staff_users.id"), nullable=False)
    created_at = Column(DateTime(), nullable=False, default=utcnow)

    created_by = relationship(StaffUser, lazy="joined")


class InboxStatus(str, enum.Enum):
    NEW = "new"
    LABELLED = "labelled"  # became a training example of a topic
    FAQ = "faq"  # became (part of) a staff FAQ
    DISMISSED = "dismissed"


class UnrecognisedMessage(Base):
    """A worker message the bot did not understand (fallback) or was unsure about."""

    __tablename__ = "unrecognised_messages"

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False)
    text = Column(Text, nullable=False)
    intent = Column(String(80))
    confidence = Column(Float)
    event_ts = Column(Float, nullable=False)
    received_at = Column(DateTime(), nullable=False)
    status = Column(String(20), nullable=False, default=InboxStatus.NEW.value, index=True)
    label = Column(String(80))
    handled_by_id = Column(Integer, ForeignKey("staff_users.id"))
    handled_at = Column(DateTime())
    # Routed like a handoff, by the worker's employer or region when the bot knows them
    # (None: unrouted, seen by top units); staff see the messages of their scope only.
    org_unit_id = Column(Integer, ForeignKey("org_units.id"), index=True)
    # The bot asked back (bot/clarify.py): the topic ids it offered, in the order shown (None: it
    # did not ask). The worker's answer: the topic they chose, a label staff confirm with one
    # click (``suggested_label``), or one of the "none of these" buttons (``declined``).
    offered = Column(JSON)
    suggested_label = Column(String(80))
    declined = Column(Boolean, nullable=False, default=False, server_default=false())

    handled_by = relationship(StaffUser, lazy="joined")

    __table_args__ = (UniqueConstraint("sender_id", "event_ts", name="uq_unrecognised_messages_event"),)


class JobStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    LIVE = "live"
    REFUSED = "refused"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.LIVE, JobStatus.REFUSED, JobStatus.FAILED)


class PublishJob(Base):
    """One "publish and retrain": its progress is what the console shows while it runs."""

    __tablename__ = "publish_jobs"

    id = Column(Integer, primary_key=True)
    status = Column(String(20), nullable=False, default=JobStatus.QUEUED.value)
    stage = Column(String(30), nullable=False, default="queued")
    progress = Column(Integer, nullable=False, default=0)
    message = Column(Text, nullable=False, default="")
    model_name = Column(String(100))
    accuracy_live = Column(Float)
    accuracy_new = Column(Float)
    started_by_id = Column(Integer, ForeignKey("staff_users.id"), nullable=False)
    created_at = Column(DateTime(), nullable=False, default=utcnow)
    finished_at = Column(DateTime())

    started_by = relationship(StaffUser, lazy="joined")
