"""The staff side of a handoff: queue, claim, reply, resolve (used by the CLI and the console).

Our database keeps the handoff; the Rasa HTTP API carries replies to the worker's channel
and pauses/resumes the bot. A reply is stored before it is sent, so a failed delivery is
reported to the staff member and kept, never silently dropped. On the web chat a reply counts
as delivered only when the worker's page confirms it (``staff_ack``); until then the page is
sent it again each time it connects (bot.channels.webchat). Claiming tells the worker who took
the conversation ("工会的李干事已接入…"), a notice delivered the same way; staff replies carry the
staff member's name (the web chat shows it above the reply, WeChat before it).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Sequence

from bot.payloads import pressed
from bot.channels.common import replies
from bot.rasa_client import RasaClient, RasaRequestFailed, RasaUnavailable
from bot.storage.models import Handoff, HandoffStatus
from bot.storage.services import HandoffService

logger = logging.getLogger(__name__)

RESUME_ACTION = "action_handoff_resume"
# Rasa channels that can send a message the worker did not just ask for.
PUSH_CHANNELS = {"socketio", "callback", "wechat", "wecom"}
# Channels whose client confirms each staff reply: sent is not yet delivered there.
CONFIRMING_CHANNELS = {"socketio"}


@dataclass(frozen=True)
class Delivery:
    message_id: int
    delivered: bool
    error: str | None = None
    # Sent, waiting for the worker's page to confirm it (it is sent again when the page reconnects).
    pending: bool = False


class StaffDesk:
    def __init__(self, handoffs: HandoffService, rasa: RasaClient) -> None:
        self.handoffs = handoffs
        self.rasa = rasa

    def queue(self) -> Sequence[Handoff]:
        return self.handoffs.queue()

    def show(self, handoff_id: int) -> Handoff:
        """The handoff with every message the worker wrote while the bot was paused."""
        handoff = self.handoffs.get(handoff_id)
        if handoff.status == HandoffStatus.RESOLVED.value:
            return handoff  # what the worker wrote later belongs to no handoff, or to a newer one
        return self.handoffs.get(handoff_id) if self._sync(handoff) else handoff

    def _sync(self, handoff: Handoff) -> bool:
        """Store what the worker wrote during this handoff's pause; whether anything was read."""
        try:
            tracker = self.rasa.tracker(handoff.sender_id)
        except RasaUnavailable:
            logger.warning("handoff %s not synced: rasa unavailable", handoff.id)
            return False
        messages = worker_messages_since_pause(tracker.get("events") or [])
        if messages:
            self.handoffs.add_worker_messages(handoff.id, messages)
        return bool(messages)

    def claim(self, handoff_id: int, username: str) -> Handoff:
        """Claim; the worker is told who took the conversation (not again when it was theirs already)."""
        handoff, notice = self.handoffs.claim_and_tell(handoff_id, username, claim_notice)
        if notice is not None:
            self._send(handoff, notice.message_id, notice.text, {"notice": True})
        return handoff

    def transfer(self, handoff_id: int, username: str, to_staff: str | None = None,
                 to_unit_id: int | None = None) -> Handoff:
        """Transfer; the worker is told to whom, so a new name or a longer wait is no surprise."""
        handoff, notice = self.handoffs.transfer_and_tell(handoff_id, username, to_staff=to_staff,
                                                          to_unit_id=to_unit_id, notice=transfer_notice)
        if notice is not None:
            self._send(handoff, notice.message_id, notice.text, {"notice": True})
        return handoff

    def reply(self, handoff_id: int, username: str, text: str) -> Delivery:
        text = text.strip()
        if not text:
            raise ValueError("empty reply")
        message_id = self.handoffs.record_staff_reply(handoff_id, username, text)
        handoff = self.handoffs.get(handoff_id)
        staff_name = handoff.claimed_by.display_name if handoff.claimed_by else ""
        return self._send(handoff, message_id, text, {"staff": True, "staff_name": staff_name})

    def _send(self, handoff: Handoff, message_id: int, text: str, kind: dict[str, Any]) -> Delivery:
        """Send a stored message to the worker's channel and record how far it got."""
        handoff_id = handoff.id
        error = None
        if handoff.channel not in PUSH_CHANNELS:
            error = f"channel {handoff.channel or 'unknown'} cannot receive later messages"
        else:
            metadata = {"handoff_id": handoff_id, "staff_message_id": message_id, **kind}
            try:
                self.rasa.send_bot_message(handoff.sender_id, text, metadata)
            except RasaRequestFailed as exc:  # e.g. WeChat's 48-hour window has closed
                error = f"not delivered: {exc.detail}"
            except RasaUnavailable as exc:
                error = f"rasa unavailable: {exc}"
        error = error[:200] if error else None  # the column's size
        pending = error is None and handoff.channel in CONFIRMING_CHANNELS
        self.handoffs.mark_delivery(message_id, delivered=None if pending else error is None, error=error)
        if error:
            logger.warning("handoff %s message %s not delivered: %s", handoff_id, message_id, error)
        return Delivery(message_id, error is None and not pending, error, pending)

    def resolve(self, handoff_id: int, username: str) -> Handoff:
        """Hand the conversation back: the bot resumes, tells the worker, asks for a rating."""
        handoff = self.handoffs.check_may_resolve(handoff_id, username)
        self._sync(handoff)  # the worker's last words stay with the handoff; later ones do not join it
        # Rasa first: if it cannot resume, nothing changes and the staff member can retry.
        self.rasa.resume(handoff.sender_id)
        resolved = self.handoffs.resolve(handoff_id, username)
        try:
            self.rasa.execute(handoff.sender_id, RESUME_ACTION)
        except RasaUnavailable:
            logger.warning("handoff %s resolved but the worker was not told", handoff_id)
        return resolved


def claim_notice(staff_name: str) -> str:
    """What the worker is told when ``staff_name`` claims their conversation."""
    return replies()["handoff_claimed"].format(name=staff_name)


def transfer_notice(name: str, to_a_person: bool) -> str:
    """What the worker is told when their conversation goes to colleague or unit ``name``."""
    return replies()["handoff_transferred_person" if to_a_person else "handoff_transferred_unit"].format(name=name)


def worker_messages_since_pause(events: Sequence[dict[str, Any]]) -> list[tuple[str, float]]:
    """User messages after the latest pause while it lasts (the bot stays silent on those); a
    button by its title. None when the conversation was resumed since, or never paused."""
    titled = list(pressed(events))
    start = None
    for index, (event, _) in enumerate(titled):
        if event.get("event") == "pause":
            start = index + 1
        elif event.get("event") == "resume":
            start = None
    if start is None:
        return []
    return [(text, float(e["timestamp"])) for e, text in titled[start:] if e.get("event") == "user" and text]
