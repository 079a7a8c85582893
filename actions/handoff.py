"""Handoff to union staff: open it (pausing the bot), hand back, take the worker's rating."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import services
from bot.complaints import parse_rating, rating_comment, service_rules
from bot.followups import last_topic
from bot.knowledge.signals import mentioned_topics
from bot.payloads import pressed
from bot.storage.escalations import LOW_RATING
from bot.storage.models import MessageRole, Priority
from bot.storage.services import HandoffRequest, HandoffService

logger = logging.getLogger(__name__)

URGENT_INTENT = "urgent_help"
HIDDEN_SLOTS = {"requested_slot", "session_started_metadata"}
TOPIC_KEY = "topic"  # not a slot: the topic of the handoff, shown with what the bot collected
COMMENT_FORM, COMMENT_SLOT = "rating_comment_form", "rating_comment"  # after a rating of 1–2


def transcript(tracker: Tracker) -> list[tuple[str, str, float]]:
    """What the worker and the bot said so far, with the tracker's event timestamps (a button the
    worker pressed by its title, not its payload)."""
    roles = {"user": MessageRole.WORKER.value, "bot": MessageRole.BOT.value}
    return [(roles[e["event"]], text, float(e.get("timestamp") or 0))
            for e, text in pressed(tracker.events) if e.get("event") in roles and text]


def worker_topic(tracker: Tracker) -> str | None:
    """The topic the handoff is about: named in the request ("我要找人问工伤的事"), else the one
    the bot answered last."""
    titles = services.topic_titles()
    named = [t for t in mentioned_topics(tracker.latest_message.get("text") or "") if t in titles]
    if named:
        return named[0]
    last = last_topic(tracker.events)
    return last if last in titles else None


def request_from(tracker: Tracker) -> tuple[HandoffRequest, Any]:
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    rule = None
    if intent == URGENT_INTENT:
        category = next((e.get("value") for e in tracker.latest_message.get("entities") or []
                         if e.get("entity") == "urgency"), None)
        rule = services.urgency_rules().get(category)
    slots = {k: v for k, v in tracker.current_slot_values().items()
             if v is not None and k not in HIDDEN_SLOTS}
    topic = worker_topic(tracker)
    if topic:  # staff see what the worker asked about, in its Chinese title
        slots[TOPIC_KEY] = services.topic_titles()[topic]
    request = HandoffRequest(
        sender_id=tracker.sender_id, channel=tracker.get_latest_input_channel(),
        reason="crisis" if rule else ("fallback" if intent == "nlu_fallback" else "requested"),
        priority=rule.priority if rule else Priority.NORMAL,
        urgency=rule.category if rule else None, slots=slots, transcript=transcript(tracker))
    return request, rule


class ActionHandoff(Action):
    """Records the handoff with transcript and slots, then pauses the bot for staff."""

    def __init__(self, service: Callable[[], HandoffService] | None = None) -> None:
        self._service = service or services.handoff_service

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        request, rule = request_from(tracker)
        if rule is not None:  # hotlines first, whatever happens to the database
            dispatcher.utter_message(response="utter_urgent_life" if rule.life_risk else "utter_urgent")
        try:
            handoff = await asyncio.to_thread(self._service().open, request)
        except Exception:
            logger.exception("handoff could not be recorded sender=%s", tracker.sender_id)
            dispatcher.utter_message(response="utter_handoff_failed")
            return []
        logger.info("handoff %s opened reason=%s priority=%s", handoff.id, request.reason, handoff.priority)
        dispatcher.utter_message(response="utter_handoff_started")
        return [ConversationPaused()]


class ActionHandoffResume(Action):
    """Run through the Rasa API when staff resolve: the bot is back and asks for a rating."""

    def name(self) -> str:
        return "action_handoff_resume"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_handoff_resolved")
        return []


class ActionSaveRating(Action):
    def __init__(self, service: Callable[[], HandoffService] | None = None) -> None:
        self._service = service or services.handoff_service

    def name(self) -> str:
        return "action_save_rating"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        limits = service_rules()["handoff"]
        value = next((e.get("value") for e in tracker.latest_message.get("entities") or []
                      if e.get("entity") == "rating"), None)
        rating = parse_rating(str(value if value is not None else tracker.latest_message.get("text") or ""),
                              int(limits["rating_min"]), int(limits["rating_max"]))
        handoff = None
        if rating is not None:
            try:
                handoff = await asyncio.to_thread(self._service().rate, tracker.sender_id, rating)
            except Exception:
                logger.exception("rating not stored sender=%s", tracker.sender_id)
        if handoff is not None and handoff.rating <= LOW_RATING:
            return [FollowupAction(COMMENT_FORM)]  # asks what went wrong (utter_ask_rating_comment)
        dispatcher.utter_message(response="utter_rating_thanks" if handoff else "utter_anything_else")
        return []


class ActionSaveRatingComment(Action):
    """Stores what the worker wrote about a poor rating (rating_comment_form); "跳过" stores nothing."""

    def __init__(self, service: Callable[[], HandoffService] | None = None) -> None:
        self._service = service or services.handoff_service

    def name(self) -> str:
        return "action_save_rating_comment"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        skip_words = service_rules()["handoff"]["comment_skip_words"]
        comment = rating_comment(str(tracker.get_slot(COMMENT_SLOT) or ""), skip_words)
        handoff = None
        if comment is not None:
            try:
                handoff = await asyncio.to_thread(self._service().comment_rating, tracker.sender_id, comment)
            except Exception:
                logger.exception("rating comment not stored sender=%s", tracker.sender_id)
        dispatcher.utter_message(response="utter_rating_comment_thanks" if handoff else "utter_rating_thanks")
        return [SlotSet(COMMENT_SLOT, None)]
