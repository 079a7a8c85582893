"""``niangjia`` subcommands for union staff until the web console exists (issue 5).

Thin: each command calls one service of ``bot.storage.services`` or ``bot.staff``.
Output is plain text for operators; complaint details stay out of listings (phones masked).
"""
from __future__ import annotations

import argparse
import getpass
import sys
from typing import Callable

from bot.complaints import mask_phone
from bot.config import Settings
from bot.rasa_client import RasaClient
from bot.staff import StaffDesk
from bot.storage.db import Database
from bot.storage.errors import InvalidInput
from bot.storage.models import Handoff, Priority, Role
from bot.storage.accounts import AccountService
from bot.storage.services import ComplaintService, HandoffService


def add_commands(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("migrate", help="create or upgrade our tables (Alembic)")
    admin = sub.add_parser("create-admin", help="create the first admin account of the console")
    admin.add_argument("username")
    admin.add_argument("--name", required=True, help="display name")
    staff = sub.add_parser("staff-add", help="create a staff account")
    staff.add_argument("username")
    staff.add_argument("--name", required=True, help="display name")
    staff.add_argument("--role", choices=[r.value for r in Role], default=Role.STAFF.value)
    staff.add_argument("--unit", help="org unit name (create it first with unit-add)")
    password = sub.add_parser("staff-password", help="set an account's console password")
    password.add_argument("username")
    for cmd in (admin, staff, password):
        cmd.add_argument("--password-stdin", action="store_true",
                         help="read the password from standard input instead of prompting")
    unit = sub.add_parser("unit-add", help="create an org unit")
    unit.add_argument("name")
    unit.add_argument("--parent", help="the unit above it")
    unit.add_argument("--region", action="append", default=[], help="a region it covers (repeatable)")
    unit.add_argument("--employer", action="append", default=[], help="an employer it covers (repeatable)")
    sub.add_parser("queue", help="open handoffs, most urgent first")
    show = sub.add_parser("show", help="a handoff with its transcript and collected slots")
    show.add_argument("handoff_id", type=int)
    for name, text in (("claim", "claim a handoff"), ("resolve", "resolve and hand back to the bot")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("handoff_id", type=int)
        cmd.add_argument("--as", dest="staff", required=True, help="staff username")
    reply = sub.add_parser("reply", help="reply to the worker in their chat")
    reply.add_argument("handoff_id", type=int)
    reply.add_argument("text")
    reply.add_argument("--as", dest="staff", required=True, help="staff username")
    complaints = sub.add_parser("complaints", help="list complaints")
    complaints.add_argument("--status")
    status = sub.add_parser("complaint-status", help="move a complaint along its workflow")
    status.add_argument("ticket")
    status.add_argument("status", choices=["accepted", "in_progress", "resolved", "rejected"])
    status.add_argument("--as", dest="staff", required=True, help="staff username")
    status.add_argument("--reason")


COMMANDS = {"migrate", "create-admin", "staff-add", "staff-password", "unit-add", "queue", "show", "claim", "resolve", "reply", "complaints",
            "complaint-status"}


def run(args: argparse.Namespace, settings: Settings, out: Callable[[str], None] = print) -> int:
    from bot.storage.migrate import upgrade

    if args.command == "migrate":
        upgrade(settings.database_url)
        out("schema up to date")
        return 0
    db = Database(settings.database_url)
    handoffs = HandoffService(db, claim_minutes=settings.handoff_claim_minutes,
                              crisis_claim_minutes=settings.crisis_claim_minutes)
    desk = StaffDesk(handoffs, RasaClient(settings.rasa_url, settings.rasa_token))
    try:
        return _dispatch(args, db, handoffs, desk, out)
    finally:
        db.dispose()


def _dispatch(args: argparse.Namespace, db: Database, handoffs: HandoffService, desk: StaffDesk,
              out: Callable[[str], None]) -> int:
    accounts = AccountService(db)
    if args.command in ("create-admin", "staff-add"):
        admin = args.command == "create-admin"
        secret = _read_password(args.password_stdin) if admin or args.password_stdin else None
        user = accounts.add(args.username, args.name, Role.ADMIN.value if admin else args.role,
                            None if admin else args.unit, password=secret)
        out(f"staff {user.username} ({user.role}) created" + ("" if secret else "; no password yet"))
    elif args.command == "staff-password":
        accounts.set_password(args.username, _read_password(args.password_stdin), actor="cli")
        out(f"password of {args.username} set")
    elif args.command == "unit-add":
        unit = accounts.add_unit(args.name, args.parent, args.region, args.employer)
        out(f"unit #{unit.id} {unit.name} created")
    elif args.command == "queue":
        for handoff in desk.queue():
            out(_handoff_line(handoff))
    elif args.command == "show":
        handoff = desk.show(args.handoff_id)
        out(_handoff_line(handoff))
        out(f"slots: {handoff.slots}")
        for message in handoff.messages:
            out(f"  [{message.sent_at:%H:%M:%S}] {message.role}: {message.text}")
    elif args.command == "claim":
        out(_handoff_line(desk.claim(args.handoff_id, args.staff)))
    elif args.command == "reply":
        delivery = desk.reply(args.handoff_id, args.staff, args.text)
        if delivery.pending:
            out("sent; delivered once the worker's chat page confirms it")
        else:
            out("delivered" if delivery.delivered else f"NOT delivered (kept): {delivery.error}")
        return 0 if delivery.delivered or delivery.pending else 3
    elif args.command == "resolve":
        out(_handoff_line(desk.resolve(args.handoff_id, args.staff)))
    elif args.command == "complaints":
        for c in ComplaintService(db).listing(args.status):
            out(f"{c.ticket}\t{c.status}\t{Priority(c.priority).name}\t{c.topic}\t{c.employer}\t"
                f"workers={c.workers_affected}\tphone={mask_phone(c.phone) or '-'}\t{c.created_at:%Y-%m-%d %H:%M}")
    elif args.command == "complaint-status":
        c = ComplaintService(db).change_status(args.ticket, args.status, args.staff, args.reason)
        out(f"{c.ticket}\t{c.status}")
    return 0


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise InvalidInput("the two passwords differ")
    return first


def _handoff_line(handoff: Handoff) -> str:
    staff = handoff.claimed_by.username if handoff.claimed_by else "-"
    flag = "\tUNCLAIMED-TOO-LONG" if handoff.flagged_at and handoff.status == "open" else ""
    return (f"#{handoff.id}\t{Priority(handoff.priority).name}\t{handoff.status}\t{handoff.reason}"
            f"\t{handoff.urgency or '-'}\tchannel={handoff.channel}\tstaff={staff}"
            f"\t{handoff.created_at:%Y-%m-%d %H:%M}{flag}")
