"""The web app: the workers' chat page at ``/`` and the staff console at ``/console``.

Every console view declares the least role that may use it (``bot.console.access``);
a view that declares nothing is refused to everyone, so a new route is closed until
someone decides who may open it.
"""
from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from bot import logmask
from bot.config import Settings, load_settings


def create_app(settings: Settings | None = None) -> Flask:
    """App factory: build the Flask app for ``settings`` (default: from the environment)."""
    settings = settings or load_settings()
    logmask.install()  # gunicorn's access log too: query strings may carry a phone number
    app = Flask(__name__)
    app.config.update(
        NIANGJIA_SETTINGS=settings,
        JSON_AS_ASCII=False,
        SECRET_KEY=settings.console_secret_key,
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.console_session_minutes),
        SESSION_REFRESH_EACH_REQUEST=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.console_secure_cookies,
        WTF_CSRF_TIME_LIMIT=None,  # the session's own lifetime bounds the token
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
    )
    CSRFProtect(app)

    from bot.console import (access, accounts, alerts, analytics, chat, complaints, deps, escalations, handoffs,
                             security, teaching)

    security.init_app(app, settings)
    deps.init_app(app, settings)
    access.init_app(app)
    for blueprint in (chat.bp, access.bp, accounts.bp, handoffs.bp, alerts.bp, escalations.bp, complaints.bp,
                      teaching.bp, analytics.bp):
        app.register_blueprint(blueprint)
    return app


def serve() -> Flask:
    """The app as ``niangjia run web`` serves it (each gunicorn worker): with the timer that flags
    handoffs left unclaimed too long (bot.console.alerts)."""
    from bot.console import alerts

    app = create_app()
    alerts.start_timer(app)
    return app
