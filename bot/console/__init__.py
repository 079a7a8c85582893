"""The web app: the workers' chat page at ``/`` (the staff console grows here later)."""
from __future__ import annotations

from flask import Flask

from bot.config import Settings, load_settings


def create_app(settings: Settings | None = None) -> Flask:
    """App factory: build the Flask app for ``settings`` (default: from the environment)."""
    settings = settings or load_settings()
    app = Flask(__name__)
    app.config["NIANGJIA_SETTINGS"] = settings
    app.config["JSON_AS_ASCII"] = False

    from bot.console import chat

    app.register_blueprint(chat.bp)
    return app
