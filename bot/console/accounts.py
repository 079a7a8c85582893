"""Accounts and org units (admins) and the audit log (supervisors and admins)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from bot.console.access import PASSWORD_RULE, new_password, requires
from bot.console.audit_log import Names, line
from bot.console.deps import CHINA_TIME, labelled, say, services
from bot.console.labels import role_label
from bot.console.tables import DateRangeForm, valid
from bot.storage.accounts import EVERYTHING, unit_tree
from bot.storage.audit import AuditFilter, audit_condition, audit_page
from bot.storage.models import Role
from bot.storage.teaching import TeachingService

bp = Blueprint("accounts", __name__, url_prefix="/console")
ROLE_CHOICES = [(r.value, role_label(r)) for r in Role]
AUDIT_PAGE = 50


class AccountForm(FlaskForm):
    username = StringField(validators=[DataRequired(), Length(max=64)])
    display_name = StringField(validators=[DataRequired(), Length(max=100)])
    role = SelectField(choices=ROLE_CHOICES)
    unit = SelectField(choices=[], validate_choice=False)
    password = PasswordField(validators=[DataRequired(message=PASSWORD_RULE), new_password])


class AccountEditForm(FlaskForm):
    display_name = StringField(validators=[DataRequired(), Length(max=100)])
    role = SelectField(choices=ROLE_CHOICES)
    unit = SelectField(choices=[], validate_choice=False)
    active = BooleanField()
    password = PasswordField(validators=[Optional(), new_password])


class UnitForm(FlaskForm):
    name = StringField(validators=[DataRequired(), Length(max=100)])
    parent = SelectField(choices=[], validate_choice=False)
    regions = TextAreaField(validators=[Length(max=2000)])
    employers = TextAreaField(validators=[Length(max=4000)])


def _unit_choices() -> list[tuple[str, str]]:
    nodes = unit_tree(services().accounts.units())
    return [("", "—")] + [(n.name, "\u3000" * n.depth + n.name) for n in nodes]


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").replace("，", "\n").replace(",", "\n").splitlines()]


@bp.route("/accounts", methods=["GET", "POST"])
@requires(Role.ADMIN)
def accounts():  # type: ignore[no-untyped-def]
    form = AccountForm()
    form.unit.choices = _unit_choices()
    if form.validate_on_submit():
        user = services().accounts.add(form.username.data, form.display_name.data, form.role.data,
                                       form.unit.data or None, password=form.password.data,
                                       actor=current_user.username)
        flash(say("account_created", name=user.display_name), "info")
        return redirect(url_for("accounts.accounts"))
    status = 400 if request.method == "POST" else 200
    return render_template("console/accounts.html", form=form, users=services().accounts.listing(),
                           role_label=role_label), status


@bp.route("/accounts/<username>", methods=["GET", "POST"])
@requires(Role.ADMIN)
def account(username: str):  # type: ignore[no-untyped-def]
    svc = services().accounts
    user = svc.get(username)
    form = AccountEditForm(obj=None if request.method == "POST" else user)
    form.unit.choices = _unit_choices()
    if request.method == "GET":
        form.unit.data = user.org_unit.name if user.org_unit else ""
    if form.validate_on_submit():
        if user.username == current_user.username and (form.role.data != Role.ADMIN.value or not form.active.data):
            flash(say("cannot_demote_self"), "error")
            return redirect(url_for("accounts.account", username=username))
        svc.update(username, current_user.username, role=form.role.data, unit=form.unit.data,
                   active=form.active.data, display_name=form.display_name.data)
        if form.password.data:
            svc.set_password(username, form.password.data, current_user.username)
        flash(say("account_saved"), "info")
        return redirect(url_for("accounts.accounts"))
    status = 400 if request.method == "POST" else 200
    return render_template("console/account.html", form=form, user=user), status


@bp.route("/units", methods=["GET", "POST"])
@requires(Role.ADMIN)
def units():  # type: ignore[no-untyped-def]
    form = UnitForm()
    form.parent.choices = _unit_choices()
    svc = services().accounts
    if form.validate_on_submit():
        svc.add_unit(form.name.data, form.parent.data or None, _lines(form.regions.data),
                     _lines(form.employers.data), actor=current_user.username)
        flash(say("unit_created", name=form.name.data.strip()), "info")
        return redirect(url_for("accounts.units"))
    all_units = {u.id: u for u in svc.units()}
    tree = [(node, all_units[node.id]) for node in unit_tree(all_units.values())]
    status = 400 if request.method == "POST" else 200
    return render_template("console/units.html", form=form, tree=tree), status


@bp.post("/units/<int:unit_id>")
@requires(Role.ADMIN)
def unit_update(unit_id: int):  # type: ignore[no-untyped-def]
    form = UnitForm()
    form.name.data = form.name.data or "-"  # the name is not editable here
    if form.validate_on_submit():
        services().accounts.update_unit(unit_id, current_user.username, _lines(form.regions.data),
                                        _lines(form.employers.data))
        flash(say("unit_saved"), "info")
    return redirect(url_for("accounts.units"))


class AuditFilterForm(DateRangeForm):
    """The audit page's filters and page, from the query string."""

    actor = SelectField(choices=[], default="", validate_choice=False)
    action = SelectField(choices=[], default="")
    object = SelectField(choices=[], default="")
    page = IntegerField(default=1, validators=[Optional(), NumberRange(min=1)])


@bp.get("/audit")
@requires(Role.SUPERVISOR)
def audit():  # type: ignore[no-untyped-def]
    """Entries about objects in the user's scope (admins: every entry), newest first, a page at a time."""
    form = AuditFilterForm(request.args)
    everything = [("", say("audit_all"))]
    form.action.choices = everything + sorted(labelled("action_").items(), key=lambda kv: kv[0])
    form.object.choices = everything + list(labelled("audit_object_").items())
    people = {u.username: u.display_name for u in services().accounts.listing()}
    form.actor.choices = everything + [(u, f"{name}（{u}）") for u, name in people.items()] + list(
        labelled("audit_actor_").items())
    if not form.validate():
        flash(say("audit_filters_invalid"), "error")
    since, until = form.created_range()
    filters = AuditFilter(actor=valid(form.actor), action=valid(form.action),
                          object_type=valid(form.object), since=since, until=until)
    page = valid(form.page) or 1
    scope = EVERYTHING if current_user.can(Role.ADMIN) else services().accounts.scope(current_user.org_unit_id)
    names = Names(people,
                  {u.id: u.name for u in services().accounts.units()},
                  {e.slug: e.current.title for e in TeachingService(services().db).faqs()})
    with services().db.transaction() as session:
        rows, total = audit_page(session, filters, audit_condition(scope), (page - 1) * AUDIT_PAGE, AUDIT_PAGE,
                                 day_offset=CHINA_TIME)
        lines = [line(row, names) for row in rows]
    pages = max(1, -(-total // AUDIT_PAGE))
    query = {k: v for k, v in request.args.items() if v and k != "page"}
    return render_template("console/audit.html", form=form, lines=lines, total=total, page=page, pages=pages,
                           previous=url_for("accounts.audit", **query, page=page - 1) if page > 1 else None,
                           following=url_for("accounts.audit", **query, page=page + 1) if page < pages else None)
