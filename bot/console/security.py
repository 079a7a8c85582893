"""What the web app tells browsers on every response: where scripts may come from and connect to,
no framing, no sniffing, no referrer to other sites; no caching of console pages (they show
workers' personal data); session cookies that travel over HTTPS only whenever HTTPS is in use.

Behind reverse proxies (``WEB_TRUSTED_PROXIES``) the client's address and scheme come from their
X-Forwarded-For / X-Forwarded-Proto, and from nowhere else.
"""
from __future__ import annotations

import ipaddress
import logging
import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, g, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from bot.config import Settings

logger = logging.getLogger(__name__)

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # same-origin, not no-referrer: Flask-WTF checks the Referer of console POSTs over HTTPS.
    "Referrer-Policy": "same-origin",
}


class SessionCookies(SecureCookieSessionInterface):
    """Session cookies are Secure when the request came over HTTPS, or always if configured."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return super().get_cookie_secure(app) or request.is_secure


def secure_cookies(app: Flask) -> bool:
    """Whether a cookie set on this request must be Secure (the session cookie's rule)."""
    return app.session_interface.get_cookie_secure(app)  # type: ignore[attr-defined]


def init_app(app: Flask, settings: Settings) -> None:
    if settings.web_trusted_proxies > 0:
        hops = settings.web_trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    app.session_interface = SessionCookies()
    rasa_sources = _origins(settings.rasa_public_url)
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", _policy(rasa_sources))
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if request.path.startswith("/console"):
            response.headers["Cache-Control"] = "no-store"
        return response

    if not settings.console_secure_cookies and not _loopback(settings.host):
        logger.warning("CONSOLE_SECURE_COOKIES is off while the web app listens on %s: console session "
                       "cookies of plain-HTTP requests can be read on the network", settings.host)


def csp_nonce() -> str:
    """This response's nonce: the one inline script a page may carry (its settings) must bear it."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def _policy(rasa_sources: str) -> str:
    scripts = f"'self' 'nonce-{csp_nonce()}'" if "csp_nonce" in g else "'self'"
    return ("default-src 'self'; "
            f"script-src {scripts}; "
            "style-src 'self'; img-src 'self' data:; font-src 'self'; "
            # The chat page's socket.io talks to the Rasa server, which may be on another port or host.
            f"connect-src 'self' {rasa_sources}; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def _origins(url: str) -> str:
    """``url``'s origin, for HTTP and for its WebSocket twin (socket.io upgrades to ws:/wss:)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    socket = "wss" if parts.scheme == "https" else "ws"
    return f"{parts.scheme}://{parts.netloc} {socket}://{parts.netloc}"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
