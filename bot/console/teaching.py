"""Teaching the bot: the unrecognised-messages inbox, the FAQ editor, approval, publish and retrain.

Staff see the untaught messages of their scope and write FAQs; supervisors and admins approve
a colleague's change of what workers read (shown as a diff) and publish.
"""
from __future__ import annotations

import difflib
import logging
import os
import tempfile
from pathlib import Path

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField, ValidationError
from wtforms.validators import DataRequired, Length

from bot.analytics.figures import FALLBACK_INTENT, FAQ_INTENT
from bot.console.access import requires
from bot.console.deps import say, services
from bot.console.labels import intent_label, topic_titles
from bot.logmask import mask
from bot.rasa_client import RasaUnavailable
from bot.storage.accounts import ROUTING_SLOTS, Scope
from bot.storage.errors import InvalidTransition, StorageUnavailable
from bot.storage.models import Role
from bot.storage.models_teaching import FaqStatus, UnrecognisedMessage
from bot.storage.teaching import (ApprovalPending, FaqNotFound, MessageNotFound, OwnChange, PendingApproval,
                                  PublishBusy, TeachingService, clean_questions)
from bot.teaching.job import launch
from bot.teaching.staff_data import FaqSpec, StaffDataError, clean_faq, response_text

logger = logging.getLogger(__name__)

bp = Blueprint("teaching", __name__, url_prefix="/console")
# A message the bot was less sure of than this is shown to staff, like a fallback.
LOW_CONFIDENCE = 0.5
# What an FAQ needs before it is saved: ways of asking, and characters of answer (spaces not counted).
MIN_QUESTIONS = 3
MIN_ANSWER_CHARS = 20
# Other topics shown when a sentence is tried on the live model.
TRY_RANKING = 3


class LabelForm(FlaskForm):
    intent = SelectField(choices=[], validate_choice=False, validators=[DataRequired()])


def enough_questions(form: FlaskForm, field: TextAreaField) -> None:
    """Staff write how workers ask: one way of asking teaches the model too little."""
    found = len(clean_questions((field.data or "").splitlines()))
    if found < MIN_QUESTIONS:
        raise ValidationError(say("faq_few_questions", min=MIN_QUESTIONS, n=found))


def long_enough_answer(form: FlaskForm, field: TextAreaField) -> None:
    """An answer a worker can act on, not a placeholder ("见规定")."""
    found = len("".join((field.data or "").split()))
    if found < MIN_ANSWER_CHARS:
        raise ValidationError(say("faq_short_answer", min=MIN_ANSWER_CHARS, n=found))


class FaqForm(FlaskForm):
    title = StringField(validators=[DataRequired(say("faq_no_title")), Length(max=200)])
    questions = TextAreaField(validators=[DataRequired(say("faq_no_questions")), Length(max=6000),
                                          enough_questions])
    answer = TextAreaField(validators=[DataRequired(say("faq_no_answer")), Length(max=3000), long_enough_answer])
    basis = StringField(validators=[Length(max=500)])


class TryForm(FlaskForm):
    """A sentence to try on the live model, and the answer being written (for the preview)."""

    sentence = StringField(validators=[Length(max=500)])
    answer = TextAreaField(validators=[Length(max=3000)])
    basis = StringField(validators=[Length(max=500)])


class ActionForm(FlaskForm):
    pass


class ApproveForm(FlaskForm):
    version = IntegerField(validators=[DataRequired()])  # the version the approver read


def _teaching() -> TeachingService:
    return TeachingService(services().db)


def _scope() -> Scope:
    return services().accounts.scope(current_user.org_unit_id)


def _faq_titles() -> dict[str, str]:
    """Staff FAQs workers may be answered with, by slug."""
    return {e.slug: e.current.title for e in _teaching().faqs() if e.status != FaqStatus.RETIRED.value}


def _intent_choices() -> list[tuple[str, str]]:
    faqs = [(f"faq/{slug}", say("faq_choice", title=title)) for slug, title in _faq_titles().items()]
    return [("", say("choose_topic"))] + list(topic_titles().items()) + faqs


def _sync_inbox() -> None:
    """Bring new fallbacks and unsure answers from Rasa's tracker store into the inbox."""
    analytics = services().analytics
    cursor_file = services().settings.var_dir / "unrecognised_cursor"
    try:
        since = int(cursor_file.read_text()) if cursor_file.exists() else 0
        scan = analytics.unrecognised_messages(since, LOW_CONFIDENCE)
        slots = services().conversations.latest_slots({m.sender_id for m in scan.messages}, ROUTING_SLOTS)
        teaching = _teaching()
        teaching.import_messages(scan.messages, slots)
        teaching.record_ask_backs(scan.ask_backs)
    except (StorageUnavailable, ValueError, OSError):
        logger.warning("unrecognised inbox not synced", exc_info=True)
        return
    if scan.last_event_id != since:
        _write_atomically(cursor_file, str(scan.last_event_id))


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent)
    with os.fdopen(handle, "w") as out:
        out.write(text)
    os.replace(temp, path)


@bp.get("/teach")
@requires(Role.STAFF)
def inbox():  # type: ignore[no-untyped-def]
    _sync_inbox()
    form = LabelForm()
    form.intent.choices = _intent_choices()
    faq_titles = _faq_titles()
    return render_template("console/inbox.html", messages=_teaching().inbox(scope=_scope()), form=form,
                           action=ActionForm(), guess=lambda intent: intent_label(intent, faq_titles))


@bp.post("/teach/messages/<int:message_id>/label")
@requires(Role.STAFF)
def label(message_id: int):  # type: ignore[no-untyped-def]
    form = LabelForm()
    form.intent.choices = _intent_choices()
    if not form.validate_on_submit() or form.intent.data not in {v for v, _ in form.intent.choices if v}:
        flash(say("choose_topic_first"), "error")
    else:
        _teaching().label(_message(message_id).id, form.intent.data, current_user.username)
        flash(say("labelled"), "info")
    return redirect(url_for("teaching.inbox"))


@bp.post("/teach/messages/<int:message_id>/confirm")
@requires(Role.STAFF)
def confirm(message_id: int):  # type: ignore[no-untyped-def]
    """One click: the topic the worker chose when the bot asked back becomes the label."""
    if ActionForm().validate_on_submit():
        try:
            _teaching().confirm(_message(message_id).id, current_user.username)
        except InvalidTransition:  # handled meanwhile, or nothing to confirm
            flash(say("confirm_nothing"), "error")
        else:
            flash(say("labelled"), "info")
    return redirect(url_for("teaching.inbox"))


@bp.post("/teach/messages/<int:message_id>/dismiss")
@requires(Role.STAFF)
def dismiss(message_id: int):  # type: ignore[no-untyped-def]
    if ActionForm().validate_on_submit():
        _teaching().dismiss(_message(message_id).id, current_user.username)
        flash(say("dismissed"), "info")
    return redirect(url_for("teaching.inbox"))


def _message(message_id: int) -> UnrecognisedMessage:
    """The message if it is in the user's scope (another unit's message is a 404)."""
    try:
        return _teaching().message(message_id, _scope())
    except MessageNotFound:
        abort(404)


@bp.route("/faqs/new", methods=["GET", "POST"])
@requires(Role.STAFF)
def faq_new():  # type: ignore[no-untyped-def]
    source = request.args.get("from", type=int)
    message = _message(source) if source is not None else None
    form = FaqForm()
    if form.validate_on_submit():
        entry = _teaching().create_faq(form.title.data, form.questions.data.splitlines(), form.answer.data,
                                       form.basis.data or "", current_user.username, from_message=source)
        flash(say("faq_created", title=entry.current.title), "info")
        return redirect(url_for("teaching.faqs"))
    if request.method == "GET" and message is not None:
        form.questions.data = mask(message.text)
    status = 400 if request.method == "POST" else 200
    return render_template("console/faq_edit.html", form=form, entry=None, message=message,
                           preview=worker_answer(form.answer.data or "", form.basis.data or "")), status


@bp.post("/faqs/try")
@requires(Role.STAFF)
def faq_try():  # type: ignore[no-untyped-def]
    """Try a sentence on the live model, and preview the answer being written as workers will read it."""
    form = TryForm()
    if not form.validate_on_submit():
        return jsonify(error=say("try_invalid")), 400
    result: dict = {"preview": worker_answer(form.answer.data or "", form.basis.data or "")}
    sentence = " ".join((form.sentence.data or "").split())
    if sentence:
        try:
            parse = services().desk.rasa.parse(sentence)
        except RasaUnavailable:
            return jsonify({**result, "error": say("try_rasa_down")}), 503
        result["understood"] = _understood(parse, _faq_titles())
    return jsonify(result)


def worker_answer(answer: str, basis: str) -> str:
    """The text a worker would read for this answer and basis once published ("" while there is no answer)."""
    try:
        return response_text(clean_faq(FaqSpec("preview", ["preview"], answer, basis)))
    except StaffDataError:
        return ""


def _understood(parse: dict, faq_titles: dict[str, str]) -> dict:
    """What the live model made of a sentence: its guess and the runners-up, as staff read them."""
    ranking = [(r.get("name"), r.get("confidence") or 0.0) for r in parse.get("intent_ranking") or []]
    top = parse.get("intent") or {}
    guess = top.get("name") or FALLBACK_INTENT
    if guess == FAQ_INTENT:  # a staff FAQ: which one, the response selector says
        selectors = parse.get("response_selector") or {}
        selected = (selectors.get(FAQ_INTENT) or selectors.get("default") or {}).get("response") or {}
        guess = selected.get("intent_response_key") or guess
    others = [(name, confidence) for name, confidence in ranking
              if name and name not in (guess, top.get("name"), FALLBACK_INTENT)][:TRY_RANKING]
    return {"intent": guess, "label": intent_label(guess, faq_titles), "confidence": top.get("confidence"),
            "percent": f"{(top.get('confidence') or 0.0) * 100:.0f}%",
            "understood": guess != FALLBACK_INTENT,
            "others": [{"label": intent_label(name, faq_titles), "percent": f"{confidence * 100:.0f}%"}
                       for name, confidence in others]}


@bp.get("/faqs")
@requires(Role.STAFF)
def faqs():  # type: ignore[no-untyped-def]
    teaching = _teaching()
    approvals = [_review(p) for p in teaching.approvals()]
    return render_template("console/faqs.html", faqs=teaching.faqs(), jobs=teaching.jobs(5),
                           pending=teaching.unpublished_changes(), action=ActionForm(), approvals=approvals,
                           waiting={r["faq_id"] for r in approvals})


def _review(pending: PendingApproval) -> dict:
    """A waiting change as the FAQ page shows it: what workers read before and after, as diffs."""
    before = pending.before
    return {"faq_id": pending.entry.id, "title": pending.after.title, "version": pending.after.number,
            "authors": [a.display_name for a in pending.authors],
            "mine": current_user.username in {a.username for a in pending.authors},
            "answer": inline_diff(before.answer if before else "", pending.after.answer),
            "basis": inline_diff(before.basis if before else "", pending.after.basis)}


def inline_diff(old: str, new: str) -> list[tuple[str, str]]:
    """``old`` → ``new`` character by character (Chinese has no spaces between words), as
    ("same" | "del" | "ins", text) runs."""
    runs: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            runs.append(("same", old[i1:i2]))
            continue
        if i2 > i1:
            runs.append(("del", old[i1:i2]))
        if j2 > j1:
            runs.append(("ins", new[j1:j2]))
    return runs


@bp.post("/faqs/<int:faq_id>/approve")
@requires(Role.SUPERVISOR)
def faq_approve(faq_id: int):  # type: ignore[no-untyped-def]
    _faq(faq_id)
    form = ApproveForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        entry = _teaching().approve(faq_id, form.version.data, current_user.username)
    except OwnChange:
        flash(say("approve_own_change"), "error")
    except InvalidTransition:  # changed again (or approved) since the approver read it
        flash(say("approve_stale"), "error")
    else:
        flash(say("faq_approved", title=entry.current.title), "info")
    return redirect(url_for("teaching.faqs"))


@bp.route("/faqs/<int:faq_id>", methods=["GET", "POST"])
@requires(Role.STAFF)
def faq_edit(faq_id: int):  # type: ignore[no-untyped-def]
    entry = _faq(faq_id)
    form = FaqForm()
    if form.validate_on_submit():
        _teaching().edit_faq(faq_id, form.title.data, form.questions.data.splitlines(), form.answer.data,
                             form.basis.data or "", current_user.username)
        flash(say("faq_saved"), "info")
        return redirect(url_for("teaching.faqs"))
    if request.method == "GET":
        current = entry.current
        form.title.data, form.answer.data, form.basis.data = current.title, current.answer, current.basis
        form.questions.data = "\n".join(current.questions)
    status = 400 if request.method == "POST" else 200
    return render_template("console/faq_edit.html", form=form, entry=entry, message=None, action=ActionForm(),
                           preview=worker_answer(form.answer.data or "", form.basis.data or "")), status


@bp.post("/faqs/<int:faq_id>/retire")
@requires(Role.STAFF)
def faq_retire(faq_id: int):  # type: ignore[no-untyped-def]
    _faq(faq_id)
    if ActionForm().validate_on_submit():
        _teaching().retire_faq(faq_id, current_user.username)
        flash(say("faq_retired"), "info")
    return redirect(url_for("teaching.faqs"))


def _faq(faq_id: int):  # type: ignore[no-untyped-def]
    try:
        return _teaching().faq(faq_id)
    except FaqNotFound:
        abort(404)


@bp.post("/publish")
@requires(Role.SUPERVISOR)
def publish():  # type: ignore[no-untyped-def]
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        job = _teaching().start_job(current_user.username)
    except PublishBusy:
        flash(say("publish_busy"), "error")
        return redirect(url_for("teaching.faqs"))
    except ApprovalPending as waiting:
        flash(say("publish_needs_approval", titles="、".join(waiting.titles)), "error")
        return redirect(url_for("teaching.faqs"))
    launch(services().settings, job.id)
    flash(say("publish_started"), "info")
    return redirect(url_for("teaching.faqs"))


@bp.get("/publish/<int:job_id>.json")
@requires(Role.STAFF)
def job_json(job_id: int):  # type: ignore[no-untyped-def]
    job = _teaching().job(job_id)
    if job is None:
        abort(404)
    return jsonify(id=job.id, status=job.status, stage=job.stage, progress=job.progress,
                   message=job.message, finished=job.finished_at is not None,
                   accuracy_new=job.accuracy_new, accuracy_live=job.accuracy_live)
