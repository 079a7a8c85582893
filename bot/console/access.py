"""Who may open what: login, logout, sessions, and the least role each console view needs."""
from __future__ import annotations

import logging
import time
from datetime import timezone
from dataclasses import dataclass
from typing import Callable, TypeVar
from urllib.parse import urlsplit

from flask import (Blueprint, Flask, abort, current_app, flash, redirect, render_template, request,
                   session, url_for)
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from bot.console.deps import say, services
from bot.rasa_client import RasaUnavailable
from bot.storage.errors import (BadCredentials, DuplicateName, HandoffNotFound, InvalidInput,
                                InvalidTransition, LoginLocked, StaffNotFound, StorageUnavailable,
                                TicketNotFound, UnitNotFound)
from bot.storage.models import Role, StaffUser

logger = logging.getLogger(__name__)

bp = Blueprint("access", __name__, url_prefix="/console")
View = TypeVar("View", bound=Callable)
# A session is ended after this long however active it is (the idle limit is the cookie's lifetime).
MAX_SESSION_SECONDS = 12 * 3600


@dataclass(frozen=True)
class ConsoleUser(UserMixin):
    """The logged-in account as the console sees it (a snapshot, not a database row)."""

    id: int
    username: str
    display_name: str
    role: Role
    org_unit_id: int | None
    unit_name: str | None
    # Epoch seconds; a session that logged in before this is over (see StaffUser.sessions_valid_after).
    sessions_valid_after: float = 0.0

    @classmethod
    def of(cls, user: StaffUser) -> "ConsoleUser":
        valid_after = user.sessions_valid_after
        return cls(user.id, user.username, user.display_name, Role(user.role), user.org_unit_id,
                   user.org_unit.name if user.org_unit else None,
                   valid_after.replace(tzinfo=timezone.utc).timestamp() if valid_after else 0.0)

    def get_id(self) -> str:
        return str(self.id)

    def can(self, role: Role) -> bool:
        return self.role.rank >= role.rank


def requires(role: Role) -> Callable[[View], View]:
    """Declare the least role that may use a view (staff < supervisor < admin)."""
    def mark(view: View) -> View:
        view.min_role = role  # type: ignore[attr-defined]
        return view
    return mark


def public(view: View) -> View:
    view.public = True  # type: ignore[attr-defined]
    return view


def init_app(app: Flask) -> None:
    manager = LoginManager(app)
    manager.session_protection = "strong"
    manager.login_view = "access.login"

    @manager.user_loader
    def load(user_id: str) -> ConsoleUser | None:
        try:
            user = services().accounts.by_id(int(user_id))
        except (ValueError, StorageUnavailable):
            return None
        return ConsoleUser.of(user) if user is not None and user.active else None

    @manager.unauthorized_handler
    def to_login():  # type: ignore[no-untyped-def]
        return redirect(url_for("access.login", next=request.full_path.rstrip("?")))

    app.before_request(_gate)
    _error_pages(app)


def _gate():  # type: ignore[no-untyped-def]
    """Every /console request: logged in, session not too old, role high enough."""
    if not request.path.startswith("/console") or request.endpoint is None:
        return None
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "public", False):
        return None
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
    login_at = session.get("login_at", 0)
    if time.time() - login_at > MAX_SESSION_SECONDS or login_at <= current_user.sessions_valid_after:
        logout_user()
        session.clear()
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
    needed = getattr(view, "min_role", None)
    if needed is None or not current_user.can(needed):
        abort(403)
    return None


def _error_pages(app: Flask) -> None:
    def page(status: int, message: str):  # type: ignore[no-untyped-def]
        return render_template("console/error.html", status=status, message=message), status

    app.register_error_handler(403, lambda e: page(403, say("forbidden")))
    app.register_error_handler(404, lambda e: page(404, say("not_found")))
    app.register_error_handler(CSRFError, lambda e: page(400, say("csrf_failed")))
    for missing in (HandoffNotFound, TicketNotFound, StaffNotFound, UnitNotFound):
        app.register_error_handler(missing, lambda e: page(404, say("not_found")))
    app.register_error_handler(InvalidTransition, lambda e: page(409, say("invalid_transition")))
    app.register_error_handler(StorageUnavailable, lambda e: page(503, say("database_down")))
    app.register_error_handler(RasaUnavailable, lambda e: page(503, say("rasa_down")))
    app.register_error_handler(InvalidInput, lambda e: page(400, say("invalid_input", detail=str(e))))
    app.register_error_handler(DuplicateName, lambda e: page(409, say("duplicate_name", name=str(e))))


class LoginForm(FlaskForm):
    username = StringField(validators=[DataRequired(), Length(max=64)])
    password = PasswordField(validators=[DataRequired(), Length(max=256)])


@bp.route("/login", methods=["GET", "POST"])
@public
def login():  # type: ignore[no-untyped-def]
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services().accounts.authenticate(form.username.data, form.password.data)
        except LoginLocked as locked:
            flash(say("login_locked", minutes=_minutes_until(locked.until)), "error")
        except BadCredentials:
            flash(say("login_failed"), "error")
        else:
            session.clear()
            login_user(ConsoleUser.of(user))
            session.permanent = True
            session["login_at"] = time.time()
            logger.info("console login staff=%s", user.id)
            return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        flash(say("login_incomplete"), "error")
    return render_template("console/login.html", form=form), 200 if request.method == "GET" else 400


@bp.post("/logout")
@requires(Role.STAFF)
def logout():  # type: ignore[no-untyped-def]
    try:
        services().accounts.end_sessions(current_user.id)  # a copy of the cookie stops working too
    except StorageUnavailable:
        logger.error("console logout: sessions not ended on the server (database unavailable)")
    logout_user()
    session.clear()
    flash(say("logged_out"), "info")
    return redirect(url_for("access.login"))


@bp.get("/")
@requires(Role.STAFF)
def home():  # type: ignore[no-untyped-def]
    return redirect(url_for("handoffs.queue"))


def _safe_next(target: str | None) -> str:
    """Only paths inside the console: never an open redirect to another site."""
    if target:
        parts = urlsplit(target)
        if (not parts.scheme and not parts.netloc and target.startswith("/console") and "//" not in target
                and target.isprintable()):
            return target
    return url_for("handoffs.queue")


def _minutes_until(until) -> int:  # type: ignore[no-untyped-def]
    from bot.storage.models import utcnow

    return max(1, int((until - utcnow()).total_seconds() // 60) + 1)
