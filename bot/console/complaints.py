"""Complaints: the filtered list, the detail page, the workflow, assignment, notes and the CSV export.

Staff see the complaints routed to their units (``Scope``); another unit's ticket is a 404.
Phone numbers are masked in the list and the export and shown whole only on the detail page,
to staff whose scope covers the complaint.
"""
from __future__ import annotations

import logging
from datetime import datetime
from functools import lru_cache

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from bot.complaints import mask_phone
from bot.console.access import requires
from bot.console.audit_log import Names
from bot.console.deps import local_time, say, services
from bot.console.tables import DateRangeForm, csv_response, valid
from bot.knowledge.topics import load_topics
from bot.storage.accounts import Scope
from bot.storage.complaint_desk import (EXPORT_FIELDS, MAX_NOTE, MAX_REASON, ComplaintDesk, ComplaintFilter,
                                        next_statuses)
from bot.storage.errors import InvalidInput
from bot.storage.models import Complaint, ComplaintStatus, Role

logger = logging.getLogger(__name__)

bp = Blueprint("complaints", __name__, url_prefix="/console")
LIST_LIMIT = 200
OTHER_TOPIC = "other"  # what the complaint form stores when no rights topic fits (actions/complaint.py)


class FilterForm(DateRangeForm):
    """The list's and the export's filters."""

    status = SelectField(choices=[], default="")
    topic = SelectField(choices=[], default="")
    employer = StringField(validators=[Optional(), Length(max=200)])
    region = StringField(validators=[Optional(), Length(max=50)])


class StatusForm(FlaskForm):
    status = StringField(validators=[DataRequired()])  # the button pressed
    reason = TextAreaField()


class AssignForm(FlaskForm):
    target = SelectField(choices=[], validate_choice=False)


class NoteForm(FlaskForm):
    text = TextAreaField(validators=[DataRequired(), Length(max=MAX_NOTE)])


def _scope() -> Scope:
    return services().accounts.scope(current_user.org_unit_id)


def _desk() -> ComplaintDesk:
    return ComplaintDesk(services().db)


@lru_cache(maxsize=1)
def _topic_titles() -> dict[str, str]:
    return {t.id: t.title for t in load_topics()}


def _topic_label(topic: str) -> str:
    return say("complaint_topic_other") if topic == OTHER_TOPIC else _topic_titles().get(topic, topic)


def _filter_form() -> FilterForm:
    form = FilterForm(request.args)
    form.status.choices = [("", say("complaint_any"))] + [
        (s.value, say(f"complaint_status_{s.value}")) for s in ComplaintStatus]
    form.topic.choices = [("", say("complaint_any"))] + list(_topic_titles().items()) + [
        (OTHER_TOPIC, say("complaint_topic_other"))]
    return form


def _filters(form: FilterForm) -> ComplaintFilter:
    """The filters of ``form``'s valid fields (an invalid one is ignored, and the page says so)."""
    created_from, created_before = form.created_range()
    return ComplaintFilter(status=valid(form.status), topic=valid(form.topic),
                           employer=valid(form.employer), region=valid(form.region),
                           created_from=created_from, created_before=created_before)


def _row(c: Complaint) -> dict:
    return {
        "ticket": c.ticket, "priority": c.priority, "priority_label": say(f"priority_{c.priority}"),
        "status_label": say(f"complaint_status_{c.status}"), "topic": _topic_label(c.topic),
        "employer": c.employer, "region": c.region or "", "unit": c.org_unit.name if c.org_unit else "",
        "assigned_to": c.assigned_to.display_name if c.assigned_to else "", "workers": c.workers_affected,
        "phone": mask_phone(c.phone), "created": local_time(c.created_at),
        "url": url_for("complaints.detail", ticket=c.ticket),
    }


@bp.get("/complaints")
@requires(Role.STAFF)
def listing():  # type: ignore[no-untyped-def]
    form = _filter_form()
    if not form.validate():
        flash(say("complaint_filters_invalid"), "error")
    found = _desk().search(_scope(), _filters(form), limit=LIST_LIMIT + 1)
    query = {k: v for k, v in request.args.items() if v}
    return render_template("console/complaints.html", form=form, rows=[_row(c) for c in found[:LIST_LIMIT]],
                           truncated=len(found) > LIST_LIMIT, limit=LIST_LIMIT,
                           export_url=url_for("complaints.export", **query))


@bp.get("/complaints/<ticket>")
@requires(Role.STAFF)
def detail(ticket: str):  # type: ignore[no-untyped-def]
    return _detail_page(ticket)


def _detail_page(ticket: str, status_form: StatusForm | None = None, code: int = 200):  # type: ignore[no-untyped-def]
    desk, scope = _desk(), _scope()
    complaint = desk.get(ticket, scope)
    assign = AssignForm(target=complaint.assigned_to.username if complaint.assigned_to else "")
    assign.target.choices = _assign_choices(ticket)
    names = Names({u.username: u.display_name for u in services().accounts.listing()}, {}, {})
    history = [{"at": local_time(e.at), "actor": names.person(e.actor),
                "what": _happened(e.action, e.detail or {}, names)} for e in desk.history(ticket, scope)]
    return render_template(
        "console/complaint.html", c=complaint, topic=_topic_label(complaint.topic),
        status_label=say(f"complaint_status_{complaint.status}"), created=local_time(complaint.created_at),
        updated=local_time(complaint.updated_at), next_statuses=next_statuses(complaint.status),
        status_form=status_form or StatusForm(), assign=assign, note=NoteForm(prefix="note"),
        notes=[{"who": n.staff.display_name, "at": local_time(n.at), "text": n.text} for n in complaint.notes],
        history=history, reason_limit=MAX_REASON), code


def _happened(action: str, detail: dict, names: Names) -> str:
    """An audit entry of the complaint, as the history on its page reads (people by their names)."""
    if action == "complaint.status":
        text = say("complaint_history_status", old=say(f"complaint_status_{detail.get('from')}"),
                   new=say(f"complaint_status_{detail.get('to')}"))
        return say("complaint_history_reason", text=text, reason=detail["reason"]) if detail.get("reason") else text
    if action == "complaint.assigned":
        return say("complaint_history_assigned", name=names.person(detail["to"])) if detail.get("to") else say(
            "complaint_history_unassigned")
    known = {"complaint.filed": "complaint_history_filed", "complaint.noted": "complaint_history_noted"}
    return say(known[action]) if action in known else action


@bp.post("/complaints/<ticket>/status")
@requires(Role.STAFF)
def status(ticket: str):  # type: ignore[no-untyped-def]
    desk, scope = _desk(), _scope()
    complaint = desk.get(ticket, scope)
    form = StatusForm()
    wanted, reason = form.status.data or "", (form.reason.data or "").strip()
    if wanted in next_statuses(complaint.status):
        problem = _reason_problem(wanted, reason)
        if problem:
            form.reason.errors = [problem]
            return _detail_page(ticket, status_form=form, code=400)
    # Anything else (a stale page, a forged value) is refused by the workflow: 409, nothing changes.
    desk.change_status(ticket, scope, wanted, current_user.username, reason or None)
    flash(say("complaint_status_changed", status=say(f"complaint_status_{wanted}")), "info")
    return redirect(url_for("complaints.detail", ticket=ticket))


def _reason_problem(wanted: str, reason: str) -> str | None:
    if wanted == ComplaintStatus.REJECTED.value and not reason:
        return say("complaint_reason_required")
    if len(reason) > MAX_REASON:
        return say("complaint_reason_too_long", limit=MAX_REASON)
    return None


@bp.post("/complaints/<ticket>/assign")
@requires(Role.STAFF)
def assign(ticket: str):  # type: ignore[no-untyped-def]
    _desk().get(ticket, _scope())
    form = AssignForm()
    form.target.choices = _assign_choices(ticket)
    target = form.target.data or ""
    names = dict(form.target.choices)
    if not form.validate_on_submit() or target not in names:
        flash(say("complaint_assign_invalid"), "error")
        return redirect(url_for("complaints.detail", ticket=ticket))
    _desk().assign(ticket, _scope(), target or None, current_user.username)
    flash(say("complaint_assigned", name=names[target]) if target else say("complaint_unassigned"), "info")
    return redirect(url_for("complaints.detail", ticket=ticket))


def _assign_choices(ticket: str) -> list[tuple[str, str]]:
    """Colleagues within the user's scope whose own units let them see this complaint."""
    scope = _scope()
    people = _desk().assignees(ticket, scope, services().accounts.colleagues(scope))
    return [("", say("complaint_nobody"))] + [(u.username, u.display_name) for u in people]


@bp.post("/complaints/<ticket>/note")
@requires(Role.STAFF)
def note(ticket: str):  # type: ignore[no-untyped-def]
    _desk().get(ticket, _scope())
    form = NoteForm(prefix="note")
    if form.validate_on_submit() and form.text.data.strip():
        _desk().add_note(ticket, _scope(), current_user.username, form.text.data)
        flash(say("complaint_note_saved"), "info")
    else:
        flash(say("complaint_note_invalid", limit=MAX_NOTE), "error")
    return redirect(url_for("complaints.detail", ticket=ticket))


@bp.get("/complaints.csv")
@requires(Role.SUPERVISOR)
def export():  # type: ignore[no-untyped-def]
    """The filtered complaints as a spreadsheet (phones masked; see ``csv_response``)."""
    form = _filter_form()
    if not form.validate():
        raise InvalidInput(say("complaint_export_filters_invalid"))
    rows = _desk().export_rows(_scope(), _filters(form), current_user.username)
    return csv_response("complaints", [say(f"complaint_csv_{name}") for name in EXPORT_FIELDS],
                        ([_cell(name, row[name]) for name in EXPORT_FIELDS] for row in rows))


def _cell(name: str, value: object) -> str:
    if isinstance(value, datetime):
        return local_time(value)
    if name == "priority":
        return say(f"priority_{value}")
    if name == "status":
        return say(f"complaint_status_{value}")
    if name == "topic":
        return _topic_label(str(value))
    if name == "consent_to_contact":
        return say("complaint_consent_yes" if value else "complaint_consent_no")
    return "" if value is None else str(value)
