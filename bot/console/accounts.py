"""Accounts and org units (admins) and the audit log (supervisors and admins)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from bot.console.access import PASSWORD_RULE, new_password, requires
from bot.console.deps import say, services
from bot.storage.accounts import EVERYTHING, unit_tree
from bot.storage.audit import audit_condition
from bot.storage.models import Role
from bot.storage.repositories import AuditRepository

bp = Blueprint("accounts", __name__, url_prefix="/console")
ROLE_CHOICES = [(r.value, r.value) for r in Role]


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
    return render_template("console/accounts.html", form=form, users=services().accounts.listing()), status


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


@bp.get("/audit")
@requires(Role.SUPERVISOR)
def audit():  # type: ignore[no-untyped-def]
    """Entries about objects in the user's scope; admins see every entry."""
    actor = (request.args.get("actor") or "").strip()
    scope = EVERYTHING if current_user.can(Role.ADMIN) else services().accounts.scope(current_user.org_unit_id)
    with services().db.transaction() as session:
        entries = AuditRepository(session).recent(300, actor or None, audit_condition(scope))
    return render_template("console/audit.html", entries=entries, actor=actor)
