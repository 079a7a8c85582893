"""Escalations: every handoff, open and resolved, for supervisors to review (staff: their own).

The list puts first what needs a supervisor's look (bot.storage.escalations): a rating of 1–2,
a crisis that waited past its claim limit, a handoff resolved without a staff reply. A resolved
handoff opens with its transcript (while retention keeps it), notes, rating and the worker's
comment; a supervisor marks it reviewed ("已复核") with a note. The CSV export follows the
complaints': filters, scope, formula-safe cells, and a phone only where the worker consented.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from bot.complaints import mask_phone
from bot.console.access import requires
from bot.console.analytics import duration_label
from bot.console.deps import local_time, say, services
from bot.console.labels import channel_label
from bot.console.slots import consented_phone
from bot.console.tables import DateRangeForm, csv_response, valid
from bot.storage.accounts import subtree_ids, unit_tree
from bot.storage.errors import InvalidInput
from bot.storage.escalations import (LOW_RATING, MAX_REVIEW_NOTE, RATING_FILTERS, REASONS, REVIEW_FILTERS,
                                     ClaimLimits, Escalation, EscalationDesk, EscalationFilter, Viewer, reason_of)
from bot.storage.models import HandoffStatus, MessageRole, Role, utcnow
from bot.storage.privacy import erased_text

bp = Blueprint("escalations", __name__, url_prefix="/console")
LIST_LIMIT = 200
UNROUTED = "none"
EXPORT_FIELDS = ("id", "created_at", "unit", "reason", "status", "channel", "staff", "claimed_at", "first_reply_at",
                 "resolved_at", "claim_minutes", "wait_minutes", "resolve_minutes", "rating", "rating_comment",
                 "flags", "reviewed", "reviewer", "reviewed_at", "review_note", "phone")


class FilterForm(DateRangeForm):
    unit = SelectField(choices=[], default="")
    status = SelectField(choices=[], default="")
    reason = SelectField(choices=[], default="")
    staff = SelectField(choices=[], default="")
    rating = SelectField(choices=[], default="")
    review = SelectField(choices=[], default="")


class ReviewForm(FlaskForm):
    note = TextAreaField(validators=[DataRequired(), Length(max=MAX_REVIEW_NOTE)])


def _viewer() -> Viewer:
    """The user's units; a staff member sees only what they claimed among them."""
    scope = services().accounts.scope(current_user.org_unit_id)
    return Viewer(scope, None if current_user.can(Role.SUPERVISOR) else current_user.id)


def _desk() -> EscalationDesk:
    settings = services().settings
    return EscalationDesk(services().db, ClaimLimits(timedelta(minutes=settings.crisis_claim_minutes),
                                                     timedelta(minutes=settings.handoff_claim_minutes)))


def _filter_form(viewer: Viewer) -> FilterForm:
    form = FilterForm(request.args)
    anything = [("", say("complaint_any"))]
    units = [(str(n.id), "\u3000" * n.depth + n.name) for n in unit_tree(services().accounts.units())
             if viewer.scope.contains(n.id)]
    form.unit.choices = anything + units + ([(UNROUTED, say("escalation_unrouted"))] if viewer.scope.unrouted else [])
    form.status.choices = anything + [(s.value, say(f"handoff_{s.value}")) for s in HandoffStatus]
    form.reason.choices = anything + [(r, say(f"reason_{r}")) for r in REASONS]
    form.staff.choices = anything + [(str(u.id), u.display_name) for u in _desk().claimers(viewer)]
    form.rating.choices = anything + [(r, say(f"escalation_rating_{r}")) for r in RATING_FILTERS]
    form.review.choices = anything + [(r, say(f"escalation_review_{r}")) for r in REVIEW_FILTERS]
    return form


def _filters(form: FilterForm) -> EscalationFilter:
    """The filters of ``form``'s valid fields (an invalid one is ignored, and the page says so)."""
    unit, staff = valid(form.unit), valid(form.staff)
    created_from, created_before = form.created_range()
    return EscalationFilter(
        units=frozenset(subtree_ids(services().accounts.units(), int(unit))) if unit and unit != UNROUTED else None,
        unrouted=unit == UNROUTED, status=valid(form.status), reason=valid(form.reason),
        staff_id=int(staff) if staff else None, rating=valid(form.rating), review=valid(form.review),
        created_from=created_from, created_before=created_before)


def _span(e: Escalation, end: datetime | None, now: datetime, missing: str) -> str:
    """How long from the handoff to ``end``; still running: how long so far; never: ``missing``."""
    if end is not None:
        return duration_label(e.seconds(end))
    if e.handoff.status != HandoffStatus.RESOLVED.value:
        return say("escalation_so_far", time=duration_label(e.seconds(now)))
    return say(missing)


def _claim_late(e: Escalation, now: datetime, limits: ClaimLimits) -> bool:
    """Claimed (or still unclaimed) later than the claim limit of its priority."""
    h = e.handoff
    waited = e.seconds(h.claimed_at or h.resolved_at or now) or 0
    return waited > limits.of(h.priority).total_seconds()


def _rating(e: Escalation) -> str:
    return say("escalation_rated", n=e.handoff.rating) if e.handoff.rating is not None else say("escalation_unrated")


def _row(e: Escalation, now: datetime, limits: ClaimLimits) -> dict:
    h = e.handoff
    return {
        "id": h.id, "priority": h.priority, "reason": say(f"reason_{reason_of(h)}"),
        "status_label": say(f"handoff_{h.status}"), "unit": h.org_unit.name if h.org_unit else say("escalation_unrouted"),
        "staff": h.claimed_by.display_name if h.claimed_by else "", "created": local_time(h.created_at),
        "wait": _span(e, e.first_reply_at, now, "escalation_no_reply"),
        "claim": _span(e, h.claimed_at, now, "no_value"), "claim_late": _claim_late(e, now, limits),
        "resolve": _span(e, h.resolved_at, now, "no_value"),
        "rating": _rating(e), "low_rating": h.rating is not None and h.rating <= LOW_RATING,
        "flags": [say(f"escalation_flag_{f}") for f in e.flags], "needs_review": e.needs_review,
        "reviewed": bool(h.reviewed_at), "url": url_for("escalations.detail", handoff_id=h.id),
    }


@bp.get("/escalations")
@requires(Role.STAFF)
def listing():  # type: ignore[no-untyped-def]
    viewer, desk, now = _viewer(), _desk(), utcnow()
    form = _filter_form(viewer)
    if not form.validate():
        flash(say("escalation_filters_invalid"), "error")
    found = desk.search(viewer, _filters(form), limit=LIST_LIMIT + 1)
    query = {k: v for k, v in request.args.items() if v}
    return render_template("console/escalations.html", form=form,
                           rows=[_row(e, now, desk.limits) for e in found[:LIST_LIMIT]],
                           truncated=len(found) > LIST_LIMIT, limit=LIST_LIMIT, own_only=viewer.own_id is not None,
                           crisis_minutes=services().settings.crisis_claim_minutes,
                           general_minutes=services().settings.handoff_claim_minutes,
                           export_url=url_for("escalations.export", **query))


@bp.get("/escalations/<int:handoff_id>")
@requires(Role.STAFF)
def detail(handoff_id: int):  # type: ignore[no-untyped-def]
    desk = _desk()
    e = desk.get(_viewer(), handoff_id)
    h, now = e.handoff, utcnow()
    messages = [m for m in h.messages if m.role != MessageRole.NOTE.value]
    retention = services().settings.retention_days
    return render_template(
        "console/escalation.html", e=e, h=h, row=_row(e, now, desk.limits), messages=messages,
        notes=[m for m in h.messages if m.role == MessageRole.NOTE.value],
        erased=any(m.text == erased_text() for m in messages),
        kept_until=local_time(h.resolved_at + timedelta(days=retention), "%Y-%m-%d") if h.resolved_at and retention else "",
        may_review=current_user.can(Role.SUPERVISOR) and h.status == HandoffStatus.RESOLVED.value and not h.reviewed_at,
        review=ReviewForm(), note_limit=MAX_REVIEW_NOTE)


@bp.post("/escalations/<int:handoff_id>/review")
@requires(Role.SUPERVISOR)
def review(handoff_id: int):  # type: ignore[no-untyped-def]
    viewer = _viewer()
    _desk().get(viewer, handoff_id)  # another unit's handoff: 404 whatever was posted
    form = ReviewForm()
    if form.validate_on_submit() and form.note.data.strip():
        _desk().review(viewer, handoff_id, current_user.username, form.note.data)
        flash(say("escalation_reviewed_ok"), "info")
    else:
        flash(say("escalation_review_invalid", limit=MAX_REVIEW_NOTE), "error")
    return redirect(url_for("escalations.detail", handoff_id=handoff_id))


@bp.get("/escalations.csv")
@requires(Role.SUPERVISOR)
def export():  # type: ignore[no-untyped-def]
    """The filtered handoffs as a spreadsheet (see ``csv_response``); durations in minutes."""
    viewer = _viewer()
    form = _filter_form(viewer)
    if not form.validate():
        raise InvalidInput(say("escalation_export_filters_invalid"))
    found = _desk().export(viewer, _filters(form), current_user.username)
    return csv_response("escalations", [say(f"escalation_csv_{name}") for name in EXPORT_FIELDS],
                        (_export_row(e) for e in found))


def _export_row(e: Escalation) -> list[str]:
    h = e.handoff
    phone = consented_phone(h.slots or {})

    def minutes(end: datetime | None) -> str:
        seconds = e.seconds(end)
        return "" if seconds is None else str(round(seconds / 60))

    values = {
        "id": str(h.id), "created_at": local_time(h.created_at), "unit": h.org_unit.name if h.org_unit else "",
        "reason": say(f"reason_{reason_of(h)}"), "status": say(f"handoff_{h.status}"),
        "channel": channel_label(h.channel), "staff": h.claimed_by.display_name if h.claimed_by else "",
        "claimed_at": local_time(h.claimed_at), "first_reply_at": local_time(e.first_reply_at),
        "resolved_at": local_time(h.resolved_at), "claim_minutes": minutes(h.claimed_at),
        "wait_minutes": minutes(e.first_reply_at), "resolve_minutes": minutes(h.resolved_at),
        "rating": "" if h.rating is None else str(h.rating), "rating_comment": h.rating_comment or "",
        "flags": "；".join(say(f"escalation_flag_{f}") for f in e.flags),
        "reviewed": say("escalation_reviewed") if h.reviewed_at else "",
        "reviewer": h.reviewed_by.display_name if h.reviewed_by else "", "reviewed_at": local_time(h.reviewed_at),
        "review_note": h.review_note or "",
        # Only a number the worker gave with consent to be called (the complaint form's), masked.
        "phone": mask_phone(phone) if phone else "",
    }
    return [values[name] for name in EXPORT_FIELDS]

