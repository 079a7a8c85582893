"""Settings, read from environment variables in one place.

Every process (Rasa server, action server, web app, CLI) builds its settings
with :func:`load_settings`; nothing else reads ``os.environ`` for configuration.
"""
from __future__ import annotations

import fcntl
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Variables credentials.yml expands for the WeChat and WeCom channels (empty: channel off).
CHANNEL_VARIABLES = {
    "WECHAT_TOKEN": "", "WECHAT_APP_ID": "", "WECHAT_APP_SECRET": "", "WECHAT_AES_KEY": "",
    "WECHAT_API_BASE": "https://api.weixin.qq.com",
    "WECOM_TOKEN": "", "WECOM_CORP_ID": "", "WECOM_AGENT_ID": "", "WECOM_SECRET": "", "WECOM_AES_KEY": "",
    "WECOM_API_BASE": "https://qyapi.weixin.qq.com",
    "WECHAT_REPLY_SECONDS": "4.0",
}


@dataclass(frozen=True)
class Settings:
    """Runtime configuration with embedded single-machine defaults."""

    project_root: Path
    var_dir: Path
    models_dir: Path
    host: str
    rasa_port: int
    actions_port: int
    web_port: int
    rasa_token: str
    rasa_public_url: str
    database_url: str
    tracker_url: str
    # A handoff unclaimed for this long waited too long (flagged in the queue, supervisors notified).
    handoff_claim_minutes: float
    callback_url: str
    web_workers: int
    log_level: str
    channel_env: Mapping[str, str]
    console_secret_key: str
    console_session_minutes: int
    # Bearer token of the REST and callback channels (integrations).
    rest_token: str
    # Key of the HMAC that turns a WeChat openid / WeCom userid into our sender id.
    sender_key: str
    # Session cookies over HTTPS only even when the request does not look like HTTPS (they are
    # anyway when it does).
    console_secure_cookies: bool
    # Every Rasa server a new model must be loaded into (one on a single machine).
    rasa_servers: tuple[str, ...] = ()
    # A new model may score this much lower on tests/nlu than the live one and still go live
    # (0.01 = one point, ~5 of 490 sentences: the noise of retraining with one FAQ more).
    publish_max_drop: float = 0.01
    # Cluster mode: Rasa's lock store, socket.io between Rasa servers and the per-sender rate
    # limit share this Redis. Empty: one machine, all three kept in process memory.
    redis_url: str = ""
    # Per sender (worker) and channel: a burst of this many messages, refilled at this rate.
    rate_limit_burst: int = 20
    rate_limit_per_minute: int = 60
    # Per client address of the web chat (a factory's dormitory shares one address: looser).
    rate_limit_address_burst: int = 200
    rate_limit_address_per_minute: int = 600
    # Conversations whose last message is older than this are purged (`niangjia purge`); 0 keeps all.
    retention_days: int = 365
    # Where Rasa calls the custom actions; default: the action server on this host. In a cluster,
    # a load balancer in front of several action servers.
    action_endpoint_url: str = ""
    # Reverse proxies in front of the web app (nginx: 1) whose X-Forwarded-For and
    # X-Forwarded-Proto are believed; 0: the connection's own address and scheme.
    web_trusted_proxies: int = 0
    # A crisis handoff unclaimed for this long waited too long (the general limit: handoff_claim_minutes).
    crisis_claim_minutes: float = 3
    # While a handoff waits for a person, the worker's messages are acknowledged at most this often.
    handoff_ack_minutes: float = 3

    @property
    def rasa_url(self) -> str:
        """Where the web app and tools reach the Rasa HTTP API."""
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def action_endpoint(self) -> str:
        return self.action_endpoint_url or f"http://{self.host}:{self.actions_port}/webhook"


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "")
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


MAX_MINUTES = 7 * 24 * 60


def _minutes(env: Mapping[str, str], name: str, default: float) -> float:
    """A number of minutes, whole or not ("0.05": three seconds, for tests); never negative."""
    raw = env.get(name, "")
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number of minutes, got {raw!r}") from exc
    if not 0 <= value <= MAX_MINUTES:  # also NaN and infinity
        raise ValueError(f"{name} must be a number of minutes, got {raw!r}")
    return int(value) if value.is_integer() else value


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from ``env`` (default: the process environment)."""
    env = os.environ if env is None else env
    root = Path(env.get("NIANGJIA_ROOT", str(PROJECT_ROOT))).resolve()
    var_dir = Path(env.get("NIANGJIA_VAR_DIR", str(root / "var"))).resolve()
    host = env.get("NIANGJIA_HOST", "127.0.0.1")
    rasa_port = _int(env, "RASA_PORT", 5005)
    token = env.get("RASA_TOKEN") or _local_secret(var_dir, "rasa_token")
    database_url = env.get("DATABASE_URL") or f"sqlite:///{var_dir / 'niangjia.db'}"
    return Settings(
        project_root=root,
        var_dir=var_dir,
        models_dir=Path(env.get("NIANGJIA_MODELS_DIR", str(root / "models"))).resolve(),
        host=host,
        rasa_port=rasa_port,
        actions_port=_int(env, "ACTIONS_PORT", 5055),
        web_port=_int(env, "WEB_PORT", 8000),
        rasa_token=token,
        rasa_public_url=env.get("RASA_PUBLIC_URL", f"http://localhost:{rasa_port}"),
        database_url=database_url,
        tracker_url=env.get("TRACKER_URL") or _tracker_url(database_url, var_dir),
        handoff_claim_minutes=_minutes(env, "HANDOFF_CLAIM_MINUTES", 10),
        callback_url=env.get("CALLBACK_URL", ""),
        web_workers=_int(env, "WEB_WORKERS", 2),
        log_level=env.get("LOG_LEVEL", "INFO").upper(),
        channel_env={name: env.get(name) or default for name, default in CHANNEL_VARIABLES.items()},
        console_secret_key=env.get("CONSOLE_SECRET_KEY") or _local_secret(var_dir, "console_secret"),
        console_session_minutes=_int(env, "CONSOLE_SESSION_MINUTES", 60),
        rest_token=env.get("REST_TOKEN") or _local_secret(var_dir, "rest_token"),
        sender_key=env.get("SENDER_KEY") or _local_secret(var_dir, "sender_key"),
        console_secure_cookies=env.get("CONSOLE_SECURE_COOKIES", "").lower() in {"1", "true", "yes"},
        rasa_servers=tuple(u.strip().rstrip("/") for u in env.get("RASA_SERVERS", "").split(",") if u.strip())
        or (f"http://{host}:{rasa_port}",),
        publish_max_drop=float(env.get("PUBLISH_MAX_DROP") or 0.01),
        redis_url=env.get("REDIS_URL", ""),
        rate_limit_burst=_int(env, "RATE_LIMIT_BURST", 20),
        rate_limit_per_minute=_int(env, "RATE_LIMIT_PER_MINUTE", 60),
        rate_limit_address_burst=_int(env, "RATE_LIMIT_ADDRESS_BURST", 200),
        rate_limit_address_per_minute=_int(env, "RATE_LIMIT_ADDRESS_PER_MINUTE", 600),
        retention_days=_int(env, "RETENTION_DAYS", 365),
        action_endpoint_url=env.get("ACTION_ENDPOINT_URL", ""),
        web_trusted_proxies=_int(env, "WEB_TRUSTED_PROXIES", 0),
        crisis_claim_minutes=_minutes(env, "CRISIS_CLAIM_MINUTES", 3),
        handoff_ack_minutes=_minutes(env, "HANDOFF_ACK_MINUTES", 3),
    )


def _tracker_url(database_url: str, var_dir: Path) -> str:
    """Rasa's tracker store lives on the same database server as our tables.

    SQLite gets a file of its own (one writer per file); a server database (PostgreSQL)
    is shared, Rasa keeping to its own ``events`` table.
    """
    if database_url.startswith("sqlite"):
        return f"sqlite:///{var_dir / 'tracker.db'}"
    return database_url


def _local_secret(var_dir: Path, name: str) -> str:
    """A per-installation secret (Rasa API token, console session key), created once under ``var/``.

    Keeps the Rasa HTTP API authenticated and console sessions signed on a fresh machine
    without a secret in the repo.
    """
    path = var_dir / name
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    make_private_dir(var_dir)
    # Processes starting together (make run) must share one secret: create it under a lock,
    # private from its first byte, and make it visible only once it is complete.
    with open(var_dir / ".secrets.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            return path.read_text(encoding="utf-8").strip()
        token = secrets.token_hex(32)  # hex: never starts with "-", which a command line would misread
        partial = var_dir / f".{name}.{os.getpid()}"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(token)
        os.replace(partial, path)
        return token


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and its parents) readable by this user only (umask 077)."""
    previous = os.umask(0o077)
    try:
        path.mkdir(parents=True, exist_ok=True)
    finally:
        os.umask(previous)


# How ``niangjia run rasa`` hands the API token to bot.rasa_server (not on the command line).
RASA_TOKEN_VARIABLE = "NIANGJIA_RASA_AUTH_TOKEN"

# Secrets a server refuses to start with when they are weak (empty = generated or channel off).
SECRET_VARIABLES = ("CONSOLE_SECRET_KEY", "RASA_TOKEN", "REST_TOKEN", "SENDER_KEY", "WECHAT_TOKEN",
                    "WECHAT_APP_SECRET", "WECHAT_AES_KEY", "WECOM_TOKEN", "WECOM_SECRET", "WECOM_AES_KEY")
MIN_SECRET_CHARS = 32


def weak_secrets(env: Mapping[str, str] | None = None) -> list[str]:
    """Names of secrets set to a placeholder (``CHANGE-ME``) or shorter than 32 characters."""
    env = os.environ if env is None else env
    return [name for name in SECRET_VARIABLES
            if env.get(name) and ("CHANGE-ME" in env[name].upper() or len(env[name]) < MIN_SECRET_CHARS)]
