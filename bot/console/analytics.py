"""The supervisors' dashboard: conversations, topics, handoffs and complaints over a period.

Conversation figures come from Rasa's tracker store and cover every conversation (events
carry no org unit); complaint and handoff figures are limited to the supervisor's units.
Days are counted in China time. The page is rendered complete on the server (tables a
reader can use without JavaScript); ``dashboard.js`` draws the charts from ``dashboard.json``.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Iterable

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from flask_login import current_user

from bot.analytics import FAQ_INTENT, ClarifyFigures, Count, Ratio
from bot.console.access import requires
from bot.console.deps import CHINA_TIME, say, services
from bot.console.labels import topic_label, topic_titles
from bot.storage.accounts import Scope
from bot.storage.models import Handoff, HandoffStatus, Priority, Role, utcnow

bp = Blueprint("analytics", __name__, url_prefix="/console")
PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
TICKET_ENDPOINT = "complaints.detail"


def duration_label(seconds: float | None) -> str:
    """A median wait as staff say it: "12 分钟", "3 小时 5 分钟", "2 天 4 小时"."""
    if seconds is None:
        return say("no_value")
    minutes = round(seconds / 60)
    if minutes < 1:
        return say("under_a_minute")
    if minutes < 60:
        return say("minutes", n=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return say("hours_minutes", h=hours, m=minutes) if minutes else say("hours", n=hours)
    days, hours = divmod(hours, 24)
    return say("days_hours", d=days, h=hours) if hours else say("days", n=days)


def percent_label(rate: Ratio) -> str:
    return say("no_value") if rate.value is None else f"{rate.value * 100:.1f}%"


def period(days: int, now: datetime) -> tuple[datetime, datetime]:
    """The last ``days`` China-time calendar days up to and including today, as naive UTC bounds."""
    today = (now + CHINA_TIME).date()
    since = datetime.combine(today - timedelta(days=days - 1), time()) - CHINA_TIME
    return since, since + timedelta(days=days)


def _days() -> int:
    days = request.args.get("days", type=int)
    return days if days in PERIODS else DEFAULT_PERIOD


def _scope() -> Scope:
    return services().accounts.scope(current_user.org_unit_id)


def _ticket_url(ticket: str) -> str:
    """The complaint's page, if the console has one (its argument named as the route names it)."""
    if TICKET_ENDPOINT not in current_app.view_functions:
        return ""
    arguments = next(current_app.url_map.iter_rules(TICKET_ENDPOINT)).arguments
    return url_for(TICKET_ENDPOINT, **{next(iter(arguments)): ticket}) if len(arguments) == 1 else ""


def _rows(counts: list[Count], label=lambda key: key) -> list[dict]:  # type: ignore[no-untyped-def]
    return [{"key": c.key, "label": label(c.key), "count": c.count} for c in counts]


def figures(days: int, scope: Scope, now: datetime | None = None) -> dict:
    """Everything the dashboard shows for the last ``days`` days, as plain JSON-ready values."""
    view = services().analytics
    since, until = period(days, now or utcnow())
    fallback, handoff_rate = view.fallback_rate(since, until), view.handoff_rate(since, until)
    handoffs = view.handoffs(since, until, unit_ids=scope)
    warnings = [{**w, "tickets": [{"ticket": t, "url": _ticket_url(t)} for t in w["tickets"]]}
                for w in services().early_warnings(scope)]
    return {
        "days": days,
        "first_day": (since + CHINA_TIME).date().isoformat(),
        "last_day": (until + CHINA_TIME - timedelta(days=1)).date().isoformat(),
        "cards": {
            "conversations": view.conversations(since, until),
            "fallback_rate": {"part": fallback.part, "whole": fallback.whole, "value": fallback.value,
                              "label": percent_label(fallback)},
            "handoff_rate": {"part": handoff_rate.part, "whole": handoff_rate.whole, "value": handoff_rate.value,
                             "label": percent_label(handoff_rate)},
            "rating": {"average": handoffs.average_rating, "n": handoffs.rated,
                       "label": say("no_value") if handoffs.average_rating is None
                       else f"{handoffs.average_rating:.1f}"},
            "claim": {"opened": handoffs.opened, "n": handoffs.claimed, "seconds": handoffs.median_claim_seconds,
                      "label": duration_label(handoffs.median_claim_seconds)},
            "resolve": {"n": handoffs.resolved, "seconds": handoffs.median_resolve_seconds,
                        "label": duration_label(handoffs.median_resolve_seconds)},
        },
        "daily": [{"day": d.day.isoformat(), "conversations": d.conversations, "messages": d.messages}
                  for d in view.daily_activity(since, until)],
        "topics": _rows(view.top_topics(since, until, topics={*topic_titles(), FAQ_INTENT}), topic_label),
        "complaints_by_topic": _rows(view.complaints_by_topic(since, until, unit_ids=scope), topic_label),
        "complaints_by_employer": _rows(view.complaints_by_employer(since, until, unit_ids=scope)),
        "complaints_by_region": _rows(view.complaints_by_region(since, until, unit_ids=scope)),
        "warnings": warnings,
        "clarify": _clarify(view.clarify(since, until)),
        "live": waiting(services().handoffs.queue(scope)),
    }


def waiting(queue: Iterable[Handoff]) -> dict:
    """Of the open queue, how many handoffs wait for someone to claim them, and how many of those are crises."""
    unclaimed = [h for h in queue if h.status == HandoffStatus.OPEN.value]
    return {"waiting": len(unclaimed), "crisis": sum(1 for h in unclaimed if h.priority == Priority.CRISIS)}


def _clarify(figures: ClarifyFigures) -> dict:
    """The ask-backs (你想问的是哪一个？): how workers answered, per topic offered."""
    return {"asked": figures.asked, "chosen": figures.chosen, "declined": figures.declined,
            "abandoned": figures.abandoned,
            "topics": [{"key": t.topic, "label": topic_label(t.topic), "offered": t.offered, "chosen": t.chosen,
                        "declined": t.declined, "abandoned": t.abandoned} for t in figures.topics]}


@bp.get("/dashboard")
@requires(Role.SUPERVISOR)
def dashboard():  # type: ignore[no-untyped-def]
    days = _days()
    return render_template("console/dashboard.html", data=figures(days, _scope()), periods=PERIODS)


@bp.get("/dashboard.json")
@requires(Role.SUPERVISOR)
def data():  # type: ignore[no-untyped-def]
    return jsonify(figures(_days(), _scope()))
