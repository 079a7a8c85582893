"""Who may open what: login, logout, own password, sessions, and the least role each console view needs."""
from __future__ import annotations

import logging
import secrets
import time
from datetime import timezone
from dataclasses import dataclass
from typing import Callable, TypeVar
from urllib.parse import urlsplit

from flask import (Blueprint, Flask, Response, abort, current_app, flash, redirect, render_template,
                   request, session, url_for)
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from itsdangerous import BadData, URLSafeTimedSerializer
from wtforms import PasswordField, StringField, ValidationError
from wtforms.validators import DataRequired, EqualTo, Length

from bot.console.deps import say, services
from bot.console.security import secure_cookies
from bot.rasa_client import RasaUnavailable
from bot.storage.accounts import MIN_PASSWORD_LENGTH, is_common_password
from bot.storage.errors import (BadCredentials, DuplicateName, HandoffNotFound, InvalidInput,
                                InvalidTransition, LoginThrottled, NotHandoffOwner, StaffNotFound,
                                StorageUnavailable, TicketNotFound, UnitNotFound)
from bot.storage.models import Role, StaffUser

logger = logging.getLogger(__name__)

bp = Blueprint("access", __name__, url_prefix="/console")
View = TypeVar("View", bound=Callable)
# A session is ended after this long however active it is (the idle limit is the cookie's lifetime).
MAX_SESSION_SECONDS = 12 * 3600
MAX_PASSWORD_LENGTH = 256
# A browser that logged in to an account keeps this signed cookie: its login attempts for that
# account are throttled on their own (bot.storage.accounts), not with an attacker's.
DEVICE_COOKIE = "niangjia_device"
DEVICE_DAYS = 90
PASSWORD_RULE = say("password_length", min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH)


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
    app.register_error_handler(NotHandoffOwner, lambda e: page(403, say("handoff_not_yours", name=e.claimer_name)))


def new_password(form: FlaskForm, field: PasswordField) -> None:
    """A password staff may choose: long enough and not one of the most common ones."""
    if field.data and not MIN_PASSWORD_LENGTH <= len(field.data) <= MAX_PASSWORD_LENGTH:
        raise ValidationError(PASSWORD_RULE)
    if field.data and is_common_password(field.data):
        raise ValidationError(say("password_common"))


class LoginForm(FlaskForm):
    username = StringField(validators=[DataRequired(), Length(max=64)])
    password = PasswordField(validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])


class PasswordForm(FlaskForm):
    current = PasswordField(validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    password = PasswordField(validators=[DataRequired(message=PASSWORD_RULE), new_password])
    again = PasswordField(validators=[EqualTo("password", message=say("password_mismatch"))])


@bp.route("/login", methods=["GET", "POST"])
@public
def login():  # type: ignore[no-untyped-def]
    form = LoginForm()
    status = 200 if request.method == "GET" else 400
    if form.validate_on_submit():
        user, status = _password_checked(lambda: services().accounts.authenticate(
            form.username.data, form.password.data, client=request.remote_addr,
            device=_known_device(form.username.data)), "login_failed")
        if user is not None:
            _start_session(user)
            logger.info("console login staff=%s", user.id)
            response = redirect(_safe_next(request.args.get("next")))
            _remember_device(response, user.username)
            return response
    elif request.method == "POST":
        flash(say("login_incomplete"), "error")
    return render_template("console/login.html", form=form), status


@bp.route("/password", methods=["GET", "POST"])
@requires(Role.STAFF)
def password():  # type: ignore[no-untyped-def]
    """Change one's own password: every other session of the account ends, this one goes on."""
    form = PasswordForm()
    status = 200 if request.method == "GET" else 400
    if form.validate_on_submit():
        changed, status = _password_checked(lambda: services().accounts.change_password(
            current_user.username, form.current.data, form.password.data, client=request.remote_addr),
            "password_current_wrong")
        if changed is not None:
            _start_session(changed)
            flash(say("password_changed"), "info")
            return redirect(url_for("handoffs.queue"))
    return render_template("console/password.html", form=form), status


def _password_checked(check: Callable[[], StaffUser], wrong: str) -> tuple[StaffUser | None, int]:
    """The account if ``check`` accepted the password, else None after saying why; and the status."""
    try:
        return check(), 302
    except LoginThrottled as throttled:
        flash(say("login_throttled", wait=_wait_text(throttled.seconds)), "error")
        return None, 429
    except BadCredentials:
        flash(say(wrong), "error")
        return None, 400


def _start_session(user: StaffUser) -> None:
    """A fresh session for ``user``, newer than every session that was ended before."""
    session.clear()
    login_user(ConsoleUser.of(user))
    session.permanent = True
    session["login_at"] = time.time()


def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="console-known-device")  # type: ignore[arg-type]


def _known_device(username: str) -> str | None:
    """The id of this browser if it logged in to ``username`` before (signed cookie), else None."""
    try:
        value = _devices().loads(request.cookies.get(DEVICE_COOKIE, ""), max_age=DEVICE_DAYS * 86400)
    except BadData:
        return None
    if not isinstance(value, dict) or value.get("user") != username.strip() or not value.get("id"):
        return None
    return str(value["id"])


def _remember_device(response: Response, username: str) -> None:
    token = _devices().dumps({"user": username, "id": secrets.token_urlsafe(16)})
    response.set_cookie(DEVICE_COOKIE, token, max_age=DEVICE_DAYS * 86400, path=url_for("access.login"),
                        secure=secure_cookies(current_app), httponly=True, samesite="Strict")


def _wait_text(seconds: int) -> str:
    return f"{seconds} 秒" if seconds < 60 else f"{-(-seconds // 60)} 分钟"


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
