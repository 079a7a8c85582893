"""The escalation queue: claim, read, reply, note, transfer and resolve handed-off conversations."""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Iterable

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from bot.analytics.figures import epoch
from bot.console.access import requires
from bot.console.deps import local_time, say, services
from bot.console.labels import channel_label, shown_text
from bot.console.slots import collected, consented_phone
from bot.payloads import pressed
from bot.storage.accounts import Scope, scope_of, unit_tree
from bot.storage.complaint_desk import ComplaintDesk
from bot.storage.errors import StorageUnavailable
from bot.storage.models import Handoff, HandoffMessage, HandoffStatus, MessageRole, Role, utcnow
from bot.storage.services import may_hand_on, may_resolve

logger = logging.getLogger(__name__)

bp = Blueprint("handoffs", __name__, url_prefix="/console")
MAX_REPLY = 2000
PREVIEW_CHARS = 80
# The queue's preview reads the worker's messages from the tracker store from this long before the
# handoff on (the request that opened it, and the bot message whose button they may have pressed).
PREVIEW_WINDOW = timedelta(hours=1)


class TextForm(FlaskForm):
    text = TextAreaField(validators=[DataRequired(), Length(max=MAX_REPLY)])


class TransferForm(FlaskForm):
    target = SelectField(choices=[], validate_choice=False, validators=[DataRequired()])


class ActionForm(FlaskForm):
    """Buttons that only change state (claim, resolve): CSRF is all they carry."""


def _scope() -> Scope:
    return services().accounts.scope(current_user.org_unit_id)


def _visible(handoff_id: int, sync: bool = False) -> Handoff:
    """The handoff if the user may read it; otherwise it looks like a missing one.

    The user's units must cover it; a resolved one is read by supervisors and by the staff member
    who handled it (as on the escalations page), not by every colleague. Checked before the
    worker's new messages are synced into it.
    """
    desk = services().desk
    handoff = desk.handoffs.get(handoff_id)
    if not _scope().contains(handoff.org_unit_id):
        abort(404)
    if (handoff.status == HandoffStatus.RESOLVED.value and not current_user.can(Role.SUPERVISOR)
            and handoff.claimed_by_id != current_user.id):
        abort(404)
    return desk.show(handoff_id) if sync else handoff


def _row(handoff: Handoff, now, latest: str | None) -> dict:  # type: ignore[no-untyped-def]
    return {
        "id": handoff.id, "priority": handoff.priority, "priority_label": say(f"priority_{handoff.priority}"),
        "reason": say(f"reason_{handoff.reason}"), "status": handoff.status,
        "status_label": say(f"handoff_{handoff.status}"), "channel": channel_label(handoff.channel),
        "unit": handoff.org_unit.name if handoff.org_unit else "",
        "claimed_by": handoff.claimed_by.display_name if handoff.claimed_by else "",
        "mine": bool(handoff.claimed_by and handoff.claimed_by.username == current_user.username),
        "waiting_minutes": int((now - handoff.created_at).total_seconds() // 60),
        "overdue": bool(handoff.flagged_at and handoff.status == HandoffStatus.OPEN.value),
        "preview": (latest or _last_words(m.text for m in handoff.messages if m.role == MessageRole.WORKER.value)
                    or "")[:PREVIEW_CHARS],
        "url": url_for("handoffs.detail", handoff_id=handoff.id),
    }


def _queue() -> dict:
    """The queue's rows and what the page shows around them: the tab title counting the handoffs
    nobody has claimed, the employers with a cluster of recent complaints."""
    now = utcnow()
    handoffs = services().desk.handoffs.queue(_scope())
    latest = _latest_words(handoffs)
    rows = [_row(h, now, latest.get(h.sender_id)) for h in handoffs]
    waiting = sum(r["status"] == HandoffStatus.OPEN.value for r in rows)
    return {"handoffs": rows, "waiting": waiting, "warnings": _warnings(),
            "title": say("queue_waiting_title", n=waiting) if waiting else say("queue_title")}


def _latest_words(handoffs) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Each worker's latest message, from the tracker store: the worker's words while the bot is
    paused reach it at once, our copy of them only when a staff member opens the conversation."""
    since = {h.sender_id: epoch(h.created_at - PREVIEW_WINDOW) for h in handoffs}
    try:
        found = services().conversations.messages_since(since)
    except StorageUnavailable:
        logger.warning("queue previews from stored transcripts: tracker store unavailable")
        return {}
    latest = {sender: _last_words(text for event, text in pressed(events) if event.get("event") == "user")
              for sender, events in found.items()}
    return {sender: words for sender, words in latest.items() if words is not None}


def _last_words(texts: Iterable[str]) -> str | None:
    """The last of a worker's messages that staff can read (a bare payload is not one)."""
    shown = [said for said in (shown_text(MessageRole.WORKER.value, text) for text in texts) if said]
    return shown[-1] if shown else None


@bp.get("/queue")
@requires(Role.STAFF)
def queue():  # type: ignore[no-untyped-def]
    found = _queue()
    return render_template("console/queue.html", rows=found["handoffs"], warnings=found["warnings"],
                           title=found["title"])


@bp.get("/queue.json")
@requires(Role.STAFF)
def queue_json():  # type: ignore[no-untyped-def]
    return jsonify(**_queue())


def _warnings() -> list[dict]:
    """Employers with a cluster of recent complaints (the supervisors' early warning)."""
    return services().early_warnings(_scope())


@bp.get("/handoffs/<int:handoff_id>")
@requires(Role.STAFF)
def detail(handoff_id: int):  # type: ignore[no-untyped-def]
    handoff = _visible(handoff_id, sync=True)
    transfer = TransferForm()
    transfer.target.choices = _transfer_choices(handoff)
    earlier, since = _transcript(handoff)
    scope = _scope()
    complaints, elsewhere = ComplaintDesk(services().db).of_worker(handoff.sender_id, scope)
    return render_template("console/handoff.html", handoff=handoff, reply=TextForm(prefix="reply"),
                           note=TextForm(prefix="note"), transfer=transfer, action=ActionForm(),
                           earlier=earlier, since=since, collected=_collected(handoff, complaints),
                           complaints=complaints, complaints_elsewhere=elsewhere,
                           mine=bool(handoff.claimed_by and handoff.claimed_by.username == current_user.username),
                           may_hand_on=may_hand_on(handoff, current_user.id, current_user.role),
                           may_resolve=may_resolve(handoff, current_user.id, current_user.role, scope))


def _transcript(handoff: Handoff) -> tuple[list[HandoffMessage], list[HandoffMessage]]:
    """The messages staff read (a payload no button title explains is left out), split where the
    handoff began: before the worker's message that asked for a person, and from it on."""
    shown = [m for m in handoff.messages if shown_text(m.role, m.text) is not None]
    before = [i for i, m in enumerate(shown) if m.sent_at <= handoff.created_at]
    asked = [i for i in before if shown[i].role == MessageRole.WORKER.value]
    start = asked[-1] if asked else (before[-1] + 1 if before else 0)
    return shown[:start], shown[start:]


def _collected(handoff: Handoff, complaints) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """What the bot collected, and a phone the worker agreed to be called on in a complaint."""
    rows = collected(handoff.slots or {})
    given = consented_phone(handoff.slots or {})
    phones = [c.phone for c in complaints if c.consent_to_contact and c.phone and c.phone != given]
    return rows + [(say("collected_complaint_phone"), phone) for phone in dict.fromkeys(phones)]


@bp.get("/handoffs/<int:handoff_id>/messages.json")
@requires(Role.STAFF)
def messages_json(handoff_id: int):  # type: ignore[no-untyped-def]
    """The conversation since the handoff began (the page's script adds what is new)."""
    handoff = _visible(handoff_id, sync=True)
    return jsonify(status=handoff.status, messages=[
        {"id": m.id, "role": m.role, "role_label": say(f"role_{m.role}"), "text": shown_text(m.role, m.text),
         "at": local_time(m.sent_at, "%m-%d %H:%M"), "delivered": m.delivered,
         "staff": m.staff.display_name if m.staff else ""} for m in _transcript(handoff)[1]])


@bp.post("/handoffs/<int:handoff_id>/claim")
@requires(Role.STAFF)
def claim(handoff_id: int):  # type: ignore[no-untyped-def]
    _visible(handoff_id)
    if ActionForm().validate_on_submit():
        services().desk.claim(handoff_id, current_user.username)
        flash(say("handoff_claimed_ok"), "info")
    return redirect(url_for("handoffs.detail", handoff_id=handoff_id))


@bp.post("/handoffs/<int:handoff_id>/reply")
@requires(Role.STAFF)
def reply(handoff_id: int):  # type: ignore[no-untyped-def]
    _visible(handoff_id)
    form = TextForm(prefix="reply")
    if not form.validate_on_submit():
        flash(say("reply_invalid", limit=MAX_REPLY), "error")
    else:
        delivery = services().desk.reply(handoff_id, current_user.username, form.text.data)
        if delivery.delivered:
            flash(say("reply_delivered"), "info")
        elif delivery.pending:
            flash(say("reply_pending"), "info")
        else:
            flash(say("reply_not_delivered", reason=delivery.error or ""), "error")
    return redirect(url_for("handoffs.detail", handoff_id=handoff_id))


@bp.post("/handoffs/<int:handoff_id>/note")
@requires(Role.STAFF)
def note(handoff_id: int):  # type: ignore[no-untyped-def]
    _visible(handoff_id)
    form = TextForm(prefix="note")
    if form.validate_on_submit():
        services().desk.handoffs.add_note(handoff_id, current_user.username, form.text.data.strip())
        flash(say("note_saved"), "info")
    else:
        flash(say("reply_invalid", limit=MAX_REPLY), "error")
    return redirect(url_for("handoffs.detail", handoff_id=handoff_id))


@bp.post("/handoffs/<int:handoff_id>/transfer")
@requires(Role.STAFF)
def transfer(handoff_id: int):  # type: ignore[no-untyped-def]
    handoff = _visible(handoff_id)
    form = TransferForm()
    form.target.choices = _transfer_choices(handoff)
    target = form.target.data or ""
    if not form.validate_on_submit() or target not in {value for value, _ in form.target.choices}:
        flash(say("transfer_invalid"), "error")
        return redirect(url_for("handoffs.detail", handoff_id=handoff_id))
    kind, _, value = target.partition(":")
    desk = services().desk
    if kind == "staff":
        desk.transfer(handoff_id, current_user.username, to_staff=value)
    else:
        desk.transfer(handoff_id, current_user.username, to_unit_id=int(value))
    flash(say("transferred"), "info")
    return redirect(url_for("handoffs.queue"))


@bp.post("/handoffs/<int:handoff_id>/resolve")
@requires(Role.STAFF)
def resolve(handoff_id: int):  # type: ignore[no-untyped-def]
    handoff = _visible(handoff_id)
    if handoff.status == HandoffStatus.OPEN.value:  # the service refuses it too: say why
        flash(say("resolve_needs_claim"), "error")
        return redirect(url_for("handoffs.detail", handoff_id=handoff_id))
    if ActionForm().validate_on_submit():
        services().desk.resolve(handoff_id, current_user.username)
        flash(say("handoff_resolved_ok"), "info")
    return redirect(url_for("handoffs.queue"))


def _transfer_choices(handoff: Handoff) -> list[tuple[str, str]]:
    """Colleagues the user works with who can reach the handoff's unit, and every unit (a case may
    need another district)."""
    svc = services().accounts
    all_units = svc.units()
    people = [(f"staff:{u.username}", say("transfer_to_staff", name=u.display_name))
              for u in svc.colleagues(_scope()) if u.username != current_user.username
              and scope_of(all_units, u.org_unit_id).contains(handoff.org_unit_id)]
    units = [(f"unit:{n.id}", say("transfer_to_unit", name="\u3000" * n.depth + n.name))
             for n in unit_tree(all_units)]
    return people + units
