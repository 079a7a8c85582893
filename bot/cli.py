"""The ``niangjia`` command: generate data, train, and run the three servers."""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from bot.config import RASA_TOKEN_VARIABLE, Settings, load_settings, make_private_dir, weak_secrets
from bot import logmask, privacy_cli, staff_cli
from bot.channels.wechat_menu import menu_json
from bot.knowledge.generate import write_training_data
from bot.storage.accounts import AccountService
from bot.storage.db import Database
from bot.storage.errors import NiangjiaError
from bot.storage.migrate import upgrade
from bot.training import ensure_model, fingerprint

logger = logging.getLogger("niangjia")


def _rasa_env(settings: Settings) -> dict[str, str]:
    """Environment that endpoints.yml / credentials.yml expand (${VAR})."""
    env = dict(os.environ)
    env.update(settings.channel_env)
    env.update(
        ACTION_ENDPOINT_URL=settings.action_endpoint,
        TRACKER_URL=settings.tracker_url,
        DATABASE_URL=settings.database_url,
        CALLBACK_URL=settings.callback_url,
        REDIS_URL=settings.redis_url,
        TF_CPP_MIN_LOG_LEVEL="2",
        SANIC_AUTO_EXTEND="false",
    )
    return env


def _exec(argv: list[str], env: dict[str, str], settings: Settings) -> None:
    os.chdir(settings.project_root)
    sys.stdout.flush()
    os.execvpe(argv[0], argv, env)


def run_server(name: str, settings: Settings) -> None:
    """Replace this process with one of the servers (used by the Procfile)."""
    weak = weak_secrets()
    if weak:
        raise SystemExit(f"refusing to start: {', '.join(weak)} must be a random value of at least 32 "
                         "characters, not a placeholder (CHANGE-ME); leave it unset on one machine to "
                         "generate one under var/")
    make_private_dir(settings.var_dir)
    python = sys.executable
    if name == "rasa":
        model = ensure_model(settings)
        # Only the chat page's own origins may call the Rasa server from a browser.
        web_origins = [f"http://localhost:{settings.web_port}",
                       f"http://{settings.host}:{settings.web_port}"]
        # The API token goes through the environment (bot.rasa_server), never the command line
        # (readable by every user in ps).
        argv = [
            python, "-m", "bot.rasa_server", "run", "--enable-api",
            "--model", str(model),
            "--interface", settings.host, "--port", str(settings.rasa_port),
            "--credentials", "credentials.yml", "--endpoints", "endpoints.yml",
            "--cors", *web_origins,
        ]
        _exec(argv, {**_rasa_env(settings), RASA_TOKEN_VARIABLE: settings.rasa_token}, settings)
    elif name == "actions":
        upgrade(settings.database_url)
        argv = [python, "-m", "rasa_sdk", "--actions", "actions",
                "--port", str(settings.actions_port)]
        # rasa_sdk listens on 0.0.0.0 unless told otherwise: only NIANGJIA_HOST (loopback by default).
        _exec(argv, {**_rasa_env(settings), "SANIC_HOST": settings.host}, settings)
    elif name == "web":
        argv = [
            python, "-m", "gunicorn", "--workers", str(settings.web_workers),
            "--bind", f"{settings.host}:{settings.web_port}",
            # The path without the query string: console filters may carry a name or a phone.
            "--access-logfile", "-", "--access-logformat", '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(L)s',
            "bot.console:serve()",
        ]
        _exec(argv, dict(os.environ), settings)
    else:
        raise SystemExit(f"unknown server {name!r}: choose rasa, actions or web")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="niangjia", description="娘家人 worker-rights assistant")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("generate", help="generate Rasa responses and rules from data/knowledge")
    train = sub.add_parser("train", help="train a model unless one matches the data")
    train.add_argument("--force", action="store_true", help="train even if a model matches")
    sub.add_parser("fingerprint", help="print the fingerprint of the training inputs")
    run = sub.add_parser("run", help="run one server in the foreground")
    run.add_argument("server", choices=["rasa", "actions", "web"])
    sub.add_parser("urls", help="print where the servers listen")
    sub.add_parser("wechat-menu", help="print the JSON for WeChat's menu API (data/knowledge/wechat_menu.yml)")
    cluster = sub.add_parser("cluster", help="run the local cluster (PostgreSQL, Redis, nginx, 2+2 servers)")
    cluster.add_argument("--rasa", type=int, default=2, help="Rasa servers")
    cluster.add_argument("--actions", type=int, default=2, help="action servers")
    job = sub.add_parser("publish-job", help="run a publish-and-retrain job the console queued")
    job.add_argument("job_id", type=int)
    staff_cli.add_commands(sub)
    privacy_cli.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    # Never phone home (Rasa telemetry and its Sentry error reports) unless asked to.
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    logmask.install()
    args = build_parser().parse_args(argv)
    settings = load_settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.command == "generate":
        print(write_training_data())
    elif args.command == "train":
        print(ensure_model(settings, force=args.force))
    elif args.command == "fingerprint":
        print(fingerprint(settings.project_root))
    elif args.command == "run":
        run_server(args.server, settings)
    elif args.command in staff_cli.COMMANDS:
        try:
            return staff_cli.run(args, settings)
        except NiangjiaError as exc:
            print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 2
    elif args.command in privacy_cli.COMMANDS:
        return privacy_cli.run(args, settings)
    elif args.command == "cluster":
        from bot.cluster.run import run as run_cluster

        return run_cluster(settings, args.rasa, args.actions)
    elif args.command == "publish-job":
        from bot.teaching.job import run_job

        return 0 if run_job(settings, args.job_id) in ("live", "refused") else 1
    elif args.command == "wechat-menu":
        print(json.dumps(menu_json(), ensure_ascii=False, indent=2))
    elif args.command == "urls":
        print_urls(settings)
    return 0


def print_urls(settings: Settings) -> None:
    """Where each server listens; while no staff account exists, how to create the first admin."""
    print(f"工人聊天页面 (web chat):   http://localhost:{settings.web_port}/")
    print(f"工作台 (staff console):    http://localhost:{settings.web_port}/console")
    print(f"Rasa HTTP API:            http://localhost:{settings.rasa_port}/")
    print(f"Action server:            http://localhost:{settings.actions_port}/health")
    db = Database(settings.database_url)
    try:
        has_staff = bool(AccountService(db).listing())
    except Exception:  # not migrated yet, or the database is down: say nothing about accounts
        logger.debug("staff accounts could not be read", exc_info=True)
        return
    finally:
        db.dispose()
    if not has_staff:
        print("还没有工作台账号。创建第一个管理员（会提示输入密码）：")
        print(f"  {Path(sys.executable).parent / 'niangjia'} create-admin <用户名> --name <显示名>")


if __name__ == "__main__":
    sys.exit(main())
