"""Blueprint for the workers' web chat page."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, render_template, send_from_directory

from bot.channels.common import MAX_MESSAGE_CHARS
from bot.config import Settings

bp = Blueprint("chat", __name__)

# socket.io-client and chart.js are installed from npm by the Makefile (not copied into the repo).
_VENDOR_FILES = {"socket.io.min.js": "socket.io-client/dist/socket.io.min.js",
                 "chart.umd.min.js": "chart.js/dist/chart.umd.min.js"}


def _settings() -> Settings:
    return current_app.config["NIANGJIA_SETTINGS"]


@bp.get("/")
def index() -> str:
    # The page says a message is too long before sending it (the channel would refuse it).
    return render_template("chat.html", rasa_url=_settings().rasa_public_url, max_chars=MAX_MESSAGE_CHARS)


@bp.get("/vendor/<name>")
def vendor(name: str):
    relative = _VENDOR_FILES.get(name)
    if relative is None:
        abort(404)
    node_modules = _settings().project_root / "node_modules"
    return send_from_directory(node_modules, relative, max_age=3600)


@bp.get("/healthz")
def health():
    return jsonify(status="ok")
