"""Handoffs left unclaimed too long: flagged on time, and shown to the supervisors of their units.

A timer in each web process (:class:`OverdueTimer`, started by :func:`bot.console.serve`, which
``niangjia run web`` runs) flags every handoff still unclaimed past the claim limit of its priority
- a crisis after ``CRISIS_CLAIM_MINUTES``, the others after ``HANDOFF_CLAIM_MINUTES`` - whether or
not anyone has a console page open; each is flagged and audited once, whichever process is first.

The console has no push channel to browsers (gunicorn's sync workers; every live page polls a JSON
view), so the alert is polled too: every console page of a supervisor or admin asks
``/console/alerts.json`` (static/alerts.js) and shows a red notice, linking to the conversation, for
each flagged handoff of their units still waiting. The queue marks it 超时未认领 and the
escalations page flags a crisis waiting past its limit.
"""
from __future__ import annotations

import logging
import threading

from flask import Blueprint, Flask, jsonify, url_for
from flask_login import current_user

from bot.console.access import requires
from bot.console.deps import say, services
from bot.storage.models import Handoff, Role, utcnow
from bot.storage.services import HandoffService

logger = logging.getLogger(__name__)

bp = Blueprint("alerts", __name__, url_prefix="/console")
# How often the timer looks: a fraction of the shortest limit, within these bounds (seconds).
CHECK_SECONDS = (0.5, 15.0)


@bp.get("/alerts.json")
@requires(Role.SUPERVISOR)
def unclaimed():  # type: ignore[no-untyped-def]
    """The user's units' handoffs still unclaimed past their limit, most serious first."""
    now = utcnow()
    scope = services().accounts.scope(current_user.org_unit_id)
    return jsonify(alerts=[_alert(h, now) for h in services().handoffs.overdue(scope)])


def _alert(handoff: Handoff, now) -> dict:  # type: ignore[no-untyped-def]
    minutes = int((now - handoff.created_at).total_seconds() // 60)
    unit = handoff.org_unit.name if handoff.org_unit else say("escalation_unrouted")
    return {"id": handoff.id, "priority": handoff.priority,
            "text": say("alert_unclaimed", priority=say(f"priority_{handoff.priority}"), id=handoff.id,
                        unit=unit, minutes=minutes),
            "url": url_for("handoffs.detail", handoff_id=handoff.id)}


class OverdueTimer:
    """Flags handoffs left unclaimed too long, every ``every`` seconds, in a daemon thread."""

    def __init__(self, handoffs: HandoffService, every: float) -> None:
        self.handoffs = handoffs
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="overdue-handoffs", daemon=True)

    def start(self) -> "OverdueTimer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.handoffs.flag_overdue()
            except Exception as exc:  # noqa: BLE001 - the database may be back at the next look
                logger.warning("unclaimed handoffs not checked: %s", type(exc).__name__)


def start_timer(app: Flask) -> OverdueTimer:
    """The app's timer, looking a few times within the shortest claim limit."""
    handoffs: HandoffService = app.extensions["niangjia"].handoffs
    shortest = min(handoffs.limits.crisis, handoffs.limits.general).total_seconds()
    low, high = CHECK_SECONDS
    timer = OverdueTimer(handoffs, max(low, min(high, shortest / 6)))
    app.extensions["niangjia_overdue_timer"] = timer
    return timer.start()
