"""Use cases for teaching the bot: the unrecognised inbox, staff FAQs with versions, publish jobs.

Each public method is one transaction and records who changed what in the audit log.

What the bot tells every worker changes only with two people: staff write FAQs, but a change of
what workers read (answer or basis) waits until a supervisor or admin who did not write it
approves it, and only supervisors and admins publish, never while a change waits.
Untaught messages are routed to org units like handoffs; staff see those of their scope.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.analytics.figures import DECLINED, AskBack
from bot.logmask import mask
from bot.storage.accounts import EVERYTHING, Scope, route_worker
from bot.storage.db import Database
from bot.storage.errors import InvalidInput, InvalidTransition, NiangjiaError, StaffNotFound
from bot.storage.models import Role, StaffUser, utcnow
from bot.storage.models_teaching import (FaqEntry, FaqStatus, FaqVersion, InboxStatus, JobStatus,
                                         PublishJob, TrainingExample, UnrecognisedMessage)
from bot.storage.repositories import AuditRepository

logger = logging.getLogger(__name__)

MAX_QUESTIONS = 30
# A job still unfinished this long after it started is dead (its process was killed).
STALE_JOB = timedelta(minutes=30)


class FaqNotFound(NiangjiaError):
    pass


class MessageNotFound(NiangjiaError):
    pass


class PublishBusy(NiangjiaError):
    """Another publish is running."""


class NotPermitted(NiangjiaError):
    """Only an active supervisor or admin may approve FAQ text or publish."""


class OwnChange(NiangjiaError):
    """Nobody approves a change they wrote (part of): a second person must read it."""


class ApprovalPending(NiangjiaError):
    """Publishing refused: FAQ text that workers would read is not approved yet (``titles``)."""

    def __init__(self, titles: Sequence[str]) -> None:
        super().__init__(f"{len(titles)} FAQ change(s) wait for approval")
        self.titles = list(titles)


@dataclass(frozen=True)
class PendingApproval:
    """An FAQ whose text for workers differs from the text last approved or published."""

    entry: FaqEntry
    before: FaqVersion | None  # the approved or live version; None: a new FAQ
    after: FaqVersion  # the current version, the one to approve
    authors: tuple[StaffUser, ...]  # who wrote the versions since ``before``: none of them may approve


def worker_text(version: FaqVersion) -> tuple[str, str]:
    """What workers read of a version: the answer and the basis shown under it."""
    return version.answer, version.basis


def pending_approval(entry: FaqEntry) -> PendingApproval | None:
    """The change of ``entry`` that needs a second person before it may be published, if any."""
    if entry.status == FaqStatus.RETIRED.value:
        return None
    before = next((v for v in reversed(entry.versions)
                   if v.approved_by_id is not None or v.number == entry.published_version), None)
    after = entry.current
    if before is not None and worker_text(before) == worker_text(after):
        return None
    since = [v for v in entry.versions if before is None or v.number > before.number]
    authors = {v.author_id: v.author for v in since}
    return PendingApproval(entry, before, after, tuple(authors.values()))


def may_approve(staff: StaffUser) -> bool:
    """Approving FAQ text and publishing: active supervisors and admins."""
    return bool(staff.active) and Role(staff.role).rank >= Role.SUPERVISOR.rank


def clean_questions(questions: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for question in questions:
        question = " ".join(question.split())
        if question and question not in seen:
            seen.append(question)
    return seen[:MAX_QUESTIONS]


class TeachingService:
    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock

    # --- the unrecognised-messages inbox ----------------------------------------------
    def import_messages(self, messages: Iterable[object],
                        slots: Mapping[str, Mapping[str, Any]] | None = None) -> int:
        """Add messages found in the tracker (``sender_id, text, intent, confidence, timestamp``),
        each routed like a handoff by what the bot knows of its sender (``slots`` per sender id).
        Phone and ID numbers in the text are masked: staff need the question, not the number, and
        the text may become training data."""
        added = 0
        for message in messages:
            sender_id = message.sender_id  # type: ignore[attr-defined]
            try:
                with self.db.transaction() as session:
                    session.add(UnrecognisedMessage(
                        sender_id=sender_id, text=mask(message.text)[:2000], intent=message.intent,  # type: ignore[attr-defined]
                        confidence=message.confidence, event_ts=message.timestamp,  # type: ignore[attr-defined]
                        received_at=datetime.utcfromtimestamp(message.timestamp),  # type: ignore[attr-defined]
                        status=InboxStatus.NEW.value,
                        org_unit_id=route_worker(session, (slots or {}).get(sender_id, {}))))
                added += 1
            except IntegrityError:
                continue  # imported before
        return added

    def inbox(self, status: str = InboxStatus.NEW.value, limit: int = 200,
              scope: Scope = EVERYTHING) -> Sequence[UnrecognisedMessage]:
        """Messages of ``scope`` in ``status``, newest first."""
        query = (select(UnrecognisedMessage).where(UnrecognisedMessage.status == status)
                 .order_by(UnrecognisedMessage.event_ts.desc()).limit(limit))
        condition = scope.where(UnrecognisedMessage.org_unit_id)
        if condition is not None:
            query = query.where(condition)
        with self.db.transaction() as session:
            return session.scalars(query).all()

    def message(self, message_id: int, scope: Scope = EVERYTHING) -> UnrecognisedMessage:
        """One message; another unit's looks exactly like a missing one."""
        with self.db.transaction() as session:
            message = session.get(UnrecognisedMessage, message_id)
            if message is None or not scope.contains(message.org_unit_id):
                raise MessageNotFound(str(message_id))
            return message

    def record_ask_backs(self, ask_backs: Iterable[AskBack]) -> int:
        """Note on the messages the bot asked back about what it offered and what the worker answered:
        the topic they chose becomes the message's suggested label, for staff to confirm."""
        updated = 0
        with self.db.transaction() as session:
            for asked in ask_backs:
                if asked.question_at is None:
                    continue
                for message in session.scalars(select(UnrecognisedMessage).where(
                        UnrecognisedMessage.sender_id == asked.sender_id,
                        UnrecognisedMessage.event_ts == asked.question_at)):
                    message.offered = list(asked.options)
                    message.declined = asked.reply == DECLINED
                    message.suggested_label = None if asked.reply in (None, DECLINED) else asked.reply
                    updated += 1
        return updated

    def label(self, message_id: int, intent: str, actor: str) -> TrainingExample:
        """The message becomes a training example of ``intent`` (a topic id or ``faq/<slug>``)."""
        with self.db.transaction() as session:
            message = self._new_message(session, message_id)
            details = {"intent": intent, **({"suggested": message.suggested_label} if message.suggested_label else {})}
            return self._label(session, message, intent, actor, "inbox.labelled", details)

    def confirm(self, message_id: int, actor: str) -> TrainingExample:
        """The topic the worker chose when asked back becomes the message's label."""
        with self.db.transaction() as session:
            message = self._new_message(session, message_id)
            if not message.suggested_label:
                raise InvalidTransition("message", "without suggestion", "confirmed")
            intent = message.suggested_label
            return self._label(session, message, intent, actor, "inbox.confirmed", {"intent": intent})

    def _label(self, session, message: UnrecognisedMessage, intent: str, actor: str,  # type: ignore[no-untyped-def]
               action: str, details: dict[str, str]) -> TrainingExample:
        example = TrainingExample(text=mask(message.text), intent=intent, created_by_id=self._staff(session, actor).id,
                                  created_at=self.clock())
        session.add(example)
        message.status, message.label = InboxStatus.LABELLED.value, intent
        message.handled_by_id, message.handled_at = example.created_by_id, self.clock()
        session.flush()
        AuditRepository(session).record(actor, action, "unrecognised_message", message.id, details)
        return example

    def dismiss(self, message_id: int, actor: str) -> None:
        with self.db.transaction() as session:
            message = self._new_message(session, message_id)
            message.status = InboxStatus.DISMISSED.value
            message.handled_by_id, message.handled_at = self._staff(session, actor).id, self.clock()
            AuditRepository(session).record(actor, "inbox.dismissed", "unrecognised_message", message_id)

    def examples(self) -> Sequence[TrainingExample]:
        with self.db.transaction() as session:
            return session.scalars(select(TrainingExample).order_by(TrainingExample.id)).all()

    # --- staff FAQs -----------------------------------------------------------------------
    def create_faq(self, title: str, questions: Iterable[str], answer: str, basis: str, actor: str,
                   from_message: int | None = None) -> FaqEntry:
        title, answer, questions = title.strip(), answer.strip(), clean_questions(questions)
        with self.db.transaction() as session:
            staff = self._staff(session, actor)
            if from_message is not None:
                message = self._new_message(session, from_message)
                questions = clean_questions([message.text, *questions])
            _check(title, questions, answer)
            now = self.clock()
            entry = FaqEntry(slug=f"new_{uuid.uuid4().hex[:12]}", status=FaqStatus.DRAFT.value,
                             created_at=now, updated_at=now)
            session.add(entry)
            session.flush()
            entry.slug = f"staff_{entry.id:04d}"
            session.add(FaqVersion(faq_id=entry.id, number=1, title=title, questions=questions, answer=answer,
                                   basis=basis.strip(), author_id=staff.id, created_at=now))
            if from_message is not None:
                message.status, message.label = InboxStatus.FAQ.value, f"faq/{entry.slug}"
                message.handled_by_id, message.handled_at = staff.id, now
            AuditRepository(session).record(actor, "faq.created", "faq", entry.slug,
                                            {"title": title, "questions": len(questions)})
            faq_id = entry.id
        return self.faq(faq_id)

    def edit_faq(self, faq_id: int, title: str, questions: Iterable[str], answer: str, basis: str,
                 actor: str) -> FaqEntry:
        """A new version; the live model keeps the published one until the next publish."""
        title, answer, questions = title.strip(), answer.strip(), clean_questions(questions)
        _check(title, questions, answer)
        with self.db.transaction() as session:
            entry = self._faq(session, faq_id)
            current = entry.current
            if (current.title, current.questions, current.answer, current.basis) == (title, questions, answer,
                                                                                      basis.strip()):
                return entry
            number = current.number + 1
            session.add(FaqVersion(faq_id=faq_id, number=number, title=title, questions=questions,
                                   answer=answer, basis=basis.strip(),
                                   author_id=self._staff(session, actor).id, created_at=self.clock()))
            entry.status, entry.updated_at = FaqStatus.DRAFT.value, self.clock()
            AuditRepository(session).record(actor, "faq.edited", "faq", entry.slug, {"version": number})
        return self.faq(faq_id)

    def retire_faq(self, faq_id: int, actor: str) -> FaqEntry:
        with self.db.transaction() as session:
            entry = self._faq(session, faq_id)
            entry.status, entry.updated_at = FaqStatus.RETIRED.value, self.clock()
            AuditRepository(session).record(actor, "faq.retired", "faq", entry.slug)
        return self.faq(faq_id)

    def faqs(self) -> Sequence[FaqEntry]:
        with self.db.transaction() as session:
            return session.scalars(select(FaqEntry).order_by(FaqEntry.updated_at.desc())).all()

    def faq(self, faq_id: int) -> FaqEntry:
        with self.db.transaction() as session:
            return self._faq(session, faq_id)

    def approvals(self) -> list[PendingApproval]:
        """FAQ changes waiting for a second person, oldest change first."""
        with self.db.transaction() as session:
            return self._approvals(session)

    def approve(self, faq_id: int, number: int, actor: str) -> FaqEntry:
        """``actor`` approves version ``number``, which must still be the FAQ's waiting change
        (a newer edit needs reading again) and must not be theirs."""
        with self.db.transaction() as session:
            entry = self._faq(session, faq_id)
            approver = self._staff(session, actor)
            if not may_approve(approver):
                raise NotPermitted(actor)
            pending = pending_approval(entry)
            if pending is None or pending.after.number != number:
                raise InvalidTransition("faq version", f"v{number}", "approved")
            authors = [a.username for a in pending.authors]
            if approver.username in authors:
                raise OwnChange(actor)
            pending.after.approved_by_id, pending.after.approved_at = approver.id, self.clock()
            AuditRepository(session).record(actor, "faq.approved", "faq", entry.slug,
                                            {"version": number, "authors": authors, "approver": actor})
        return self.faq(faq_id)

    def unpublished_changes(self) -> int:
        """FAQs whose latest version (or retirement) is not in the live model yet, plus new examples."""
        with self.db.transaction() as session:
            entries = session.scalars(select(FaqEntry)).all()
            pending = sum(1 for e in entries if e.status == FaqStatus.DRAFT.value or (
                e.status == FaqStatus.RETIRED.value and e.published_version is not None))
            last_live = session.scalars(select(PublishJob.created_at).where(
                PublishJob.status == JobStatus.LIVE.value).order_by(PublishJob.id.desc()).limit(1)).first()
            query = select(TrainingExample)
            if last_live is not None:
                query = query.where(TrainingExample.created_at > last_live)
            return pending + len(session.scalars(query).all())

    # --- publish jobs ---------------------------------------------------------------------
    def start_job(self, actor: str) -> PublishJob:
        """Queue a publish: a supervisor's or admin's, with no FAQ change waiting for approval."""
        now = self.clock()
        with self.db.transaction() as session:
            if not may_approve(self._staff(session, actor)):
                raise NotPermitted(actor)
            waiting = self._approvals(session)
            if waiting:
                raise ApprovalPending([p.after.title for p in waiting])
            running = session.scalars(select(PublishJob).where(
                PublishJob.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]))).all()
            for job in running:
                if now - job.created_at <= STALE_JOB:
                    raise PublishBusy(str(job.id))
                job.status, job.finished_at = JobStatus.FAILED.value, now  # its process died
            job = PublishJob(status=JobStatus.QUEUED.value, stage="queued", progress=0, message="",
                             started_by_id=self._staff(session, actor).id, created_at=now)
            session.add(job)
            session.flush()
            AuditRepository(session).record(actor, "model.publish_started", "publish_job", job.id)
            return job

    def report(self, job_id: int, stage: str, progress: int, message: str) -> None:
        with self.db.transaction() as session:
            job = session.get(PublishJob, job_id)
            if job is not None:
                job.status, job.stage = JobStatus.RUNNING.value, stage
                job.progress, job.message = max(0, min(100, progress)), message

    def finish_job(self, job_id: int, stage: str, message: str, model_name: str | None,
                   accuracy_new: float | None, accuracy_live: float | None,
                   published: dict[int, int] | None = None) -> PublishJob:
        """Record the outcome; on ``live`` mark the FAQ versions that went into the model."""
        status = {"live": JobStatus.LIVE, "refused": JobStatus.REFUSED}.get(stage, JobStatus.FAILED)
        with self.db.transaction() as session:
            job = session.get(PublishJob, job_id)
            job.status, job.stage, job.progress, job.message = status.value, stage, 100, message
            job.model_name, job.accuracy_new, job.accuracy_live = model_name, accuracy_new, accuracy_live
            job.finished_at = self.clock()
            if status is JobStatus.LIVE:
                for entry in session.scalars(select(FaqEntry)).all():
                    if entry.id in (published or {}):
                        entry.status, entry.published_version = FaqStatus.PUBLISHED.value, published[entry.id]
                    elif entry.status == FaqStatus.RETIRED.value:
                        entry.published_version = None
            actor = job.started_by.username if job.started_by else "system"
            AuditRepository(session).record(actor, f"model.publish_{status.value}", "publish_job", job_id,
                                            {"model": model_name, "new": accuracy_new, "live": accuracy_live})
            return job

    def job(self, job_id: int) -> PublishJob | None:
        with self.db.transaction() as session:
            return session.get(PublishJob, job_id)

    def jobs(self, limit: int = 10) -> Sequence[PublishJob]:
        with self.db.transaction() as session:
            return session.scalars(select(PublishJob).order_by(PublishJob.id.desc()).limit(limit)).all()

    def publishable(self) -> tuple[list[tuple[int, int, FaqVersion, str]], list[TrainingExample]]:
        """What the next model learns: (faq id, version number, version, slug) of every FAQ not
        retired, and every labelled example. Raises ApprovalPending if an FAQ was changed and
        not approved since the publish was started."""
        with self.db.transaction() as session:
            waiting = self._approvals(session)
            if waiting:
                raise ApprovalPending([p.after.title for p in waiting])
            entries = session.scalars(select(FaqEntry).where(FaqEntry.status != FaqStatus.RETIRED.value)
                                      .order_by(FaqEntry.id)).all()
            faqs = [(e.id, e.current.number, e.current, e.slug) for e in entries]
            examples = list(session.scalars(select(TrainingExample).order_by(TrainingExample.id)).all())
            return faqs, examples

    # --- helpers --------------------------------------------------------------------------
    @staticmethod
    def _approvals(session) -> list[PendingApproval]:  # type: ignore[no-untyped-def]
        entries = session.scalars(select(FaqEntry).order_by(FaqEntry.updated_at, FaqEntry.id)).all()
        return [p for p in map(pending_approval, entries) if p is not None]

    @staticmethod
    def _staff(session, username: str) -> StaffUser:  # type: ignore[no-untyped-def]
        staff = session.scalars(select(StaffUser).where(StaffUser.username == username)).first()
        if staff is None:
            raise StaffNotFound(username)
        return staff

    @staticmethod
    def _faq(session, faq_id: int) -> FaqEntry:  # type: ignore[no-untyped-def]
        entry = session.get(FaqEntry, faq_id)
        if entry is None:
            raise FaqNotFound(str(faq_id))
        return entry

    @staticmethod
    def _new_message(session, message_id: int) -> UnrecognisedMessage:  # type: ignore[no-untyped-def]
        message = session.get(UnrecognisedMessage, message_id)
        if message is None:
            raise MessageNotFound(str(message_id))
        if message.status != InboxStatus.NEW.value:
            raise InvalidTransition("message", message.status, "handled")
        return message


def _check(title: str, questions: list[str], answer: str) -> None:
    if not title or not questions or not answer:
        raise InvalidInput("a FAQ needs a title, at least one question and an answer")
