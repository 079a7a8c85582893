"""Complaint form: validation, summary, submission, status check. Thin: rules live in bot.*."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import services
from bot.complaints import ComplaintDraft, find_phone, find_ticket, parse_count, place_name, service_rules
from bot.knowledge.signals import mentioned_topics
from bot.storage.errors import StorageUnavailable, TicketNotFound
from bot.storage.services import ComplaintService

logger = logging.getLogger(__name__)

FORM_SLOTS = ["complaint_employer", "complaint_region", "complaint_topic", "complaint_description",
              "complaint_since", "complaint_workers", "complaint_phone", "complaint_consent",
              "complaint_confirmed"]
ANONYMOUS = "none"
NOT_SAID = "none"  # the worker would rather not say where they work
MAX_PLACE = 20
OTHER_TOPIC = "other"
MIN_INFERRED_CONFIDENCE = 0.3


def _form_words() -> dict[str, Any]:
    return service_rules()["form"]


def _says(text: str, words: list[str]) -> bool:
    return any(word in text for word in words)


def _intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def _asked(tracker: Tracker, slot: str) -> bool:
    """The worker's message answers the form's question for ``slot``."""
    return tracker.get_slot("requested_slot") == slot


def infer_topic(tracker: Tracker, topics: set[str]) -> str | None:
    """The topic the worker talked about before asking to complain, if any.

    Only messages from before the form started count: answers to the form's questions
    (an employer's name, say) would give a meaningless intent.
    """
    events = list(tracker.events)
    starts = [i for i, e in enumerate(events)
              if e.get("event") == "active_loop" and e.get("name") == "complaint_form"]
    before = [e for e in events[:starts[-1]] if e.get("event") == "user"] if starts else []
    if before:  # "我要投诉老板不给加班费": the topic the complaint message names
        parse = before[-1].get("parse_data") or {}
        ranking = parse.get("intent_ranking") or []
        named = [t for t in mentioned_topics(before[-1].get("text") or "") if t in topics]
        if named:  # several named: the one the model ranks highest, else the first written
            ranked = [entry.get("name") for entry in ranking]
            return min(named, key=lambda t: (ranked.index(t) if t in ranked else len(ranked), named.index(t)))
        for entry in ranking:
            if entry.get("name") in topics and entry.get("confidence", 0) >= MIN_INFERRED_CONFIDENCE:
                return entry["name"]
    for event in reversed(before):
        name = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if name in topics:
            return name
    return None


class ValidateComplaintForm(FormValidationAction):
    def name(self) -> str:
        return "validate_complaint_form"

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> list[str]:
        if tracker.get_slot("complaint_phone") == ANONYMOUS:
            return [s for s in FORM_SLOTS if s != "complaint_consent"]
        return list(FORM_SLOTS)

    async def extract_complaint_topic(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                      domain: DomainDict) -> dict[str, Any]:
        if tracker.get_slot("complaint_topic") or _asked(tracker, "complaint_topic"):
            return {}
        topic = infer_topic(tracker, set(services.topic_titles()))
        return {"complaint_topic": topic} if topic else {}

    def validate_complaint_employer(self, value: Any, dispatcher: CollectingDispatcher,
                                    tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        text = str(value or "").strip()
        if not 2 <= len(text) <= 200:
            dispatcher.utter_message(response="utter_complaint_employer_invalid")
            return {"complaint_employer": None}
        return {"complaint_employer": text}

    async def extract_complaint_region(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                       domain: DomainDict) -> dict[str, Any]:
        """The region the worker already gave (in any message, any session) spares the question."""
        region = tracker.get_slot("region")
        if not region or tracker.get_slot("complaint_region") or _asked(tracker, "complaint_region"):
            return {}
        return {"complaint_region": region}

    def validate_complaint_region(self, value: Any, dispatcher: CollectingDispatcher,
                                  tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        if value == NOT_SAID:  # kept from an earlier attempt (form re-activated)
            return {"complaint_region": NOT_SAID}
        found = {e.get("entity") for e in tracker.latest_message.get("entities") or []}
        if (_asked(tracker, "complaint_region") and "region" not in found
                and ("skip" in found or _intent(tracker) == "deny")):  # "跳过", "不想说"
            return {"complaint_region": NOT_SAID}
        place = place_name(str(value or ""), _form_words()["place_fillers"])
        if not 2 <= len(place) <= MAX_PLACE:
            dispatcher.utter_message(response="utter_complaint_region_invalid")
            return {"complaint_region": None}
        return {"complaint_region": place}

    def validate_complaint_topic(self, value: Any, dispatcher: CollectingDispatcher,
                                 tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        topics = services.topic_titles()
        if value in topics or value == OTHER_TOPIC:
            return {"complaint_topic": value}
        intent = _intent(tracker)
        return {"complaint_topic": intent if intent in topics else OTHER_TOPIC}

    def validate_complaint_description(self, value: Any, dispatcher: CollectingDispatcher,
                                       tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        text = str(value or "").strip()
        if len(text) < 4:
            dispatcher.utter_message(response="utter_complaint_description_invalid")
            return {"complaint_description": None}
        return {"complaint_description": text[:2000]}

    def validate_complaint_since(self, value: Any, dispatcher: CollectingDispatcher,
                                 tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        text = str(value or "").strip()
        return {"complaint_since": text[:200] or None}

    def validate_complaint_workers(self, value: Any, dispatcher: CollectingDispatcher,
                                   tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        count = parse_count(str(value or ""))
        if count is None:
            dispatcher.utter_message(response="utter_complaint_workers_invalid")
        return {"complaint_workers": count}

    def validate_complaint_phone(self, value: Any, dispatcher: CollectingDispatcher,
                                 tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        if value == ANONYMOUS:  # kept from an earlier attempt (form re-activated)
            return {"complaint_phone": ANONYMOUS, "complaint_consent": False}
        text = str(value or "")
        phone = find_phone(text)
        if phone:
            return {"complaint_phone": phone}
        if _intent(tracker) == "deny" or _says(text, _form_words()["anonymous_words"]):
            return {"complaint_phone": ANONYMOUS, "complaint_consent": False}
        dispatcher.utter_message(response="utter_complaint_phone_invalid")
        return {"complaint_phone": None}

    def validate_complaint_consent(self, value: Any, dispatcher: CollectingDispatcher,
                                   tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        if isinstance(value, bool):  # kept from an earlier attempt (form re-activated)
            return {"complaint_consent": value}
        text, words = str(value or ""), _form_words()
        if _intent(tracker) == "deny" or _says(text, words["no_words"]):
            return {"complaint_consent": False}
        if _intent(tracker) == "affirm" or _says(text, words["yes_words"]):
            return {"complaint_consent": True}
        dispatcher.utter_message(response="utter_complaint_yes_no")
        return {"complaint_consent": None}

    def validate_complaint_confirmed(self, value: Any, dispatcher: CollectingDispatcher,
                                     tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        text, words = str(value or ""), _form_words()
        for slot, names in words["fields"].items():
            if _says(text, names):  # "改一下单位名称": ask that field again
                dispatcher.utter_message(response="utter_complaint_correct_field")
                return {slot: None, "complaint_confirmed": None}
        if _intent(tracker) == "deny" or _says(text, words["no_words"] + words["change_words"]):
            dispatcher.utter_message(response="utter_complaint_which_field")
            return {"complaint_confirmed": None}
        if _intent(tracker) == "affirm" or _says(text, words["yes_words"]):
            return {"complaint_confirmed": "yes"}
        dispatcher.utter_message(response="utter_complaint_confirm_hint")
        return {"complaint_confirmed": None}


class ActionAskComplaintConfirmed(Action):
    """Shows everything the worker said, to confirm or correct before anything is stored."""

    def name(self) -> str:
        return "action_ask_complaint_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        labels = service_rules()["labels"]
        topic = tracker.get_slot("complaint_topic")
        phone = tracker.get_slot("complaint_phone")
        dispatcher.utter_message(
            response="utter_ask_complaint_confirmed",
            employer=tracker.get_slot("complaint_employer"),
            region=said_region(tracker) or labels["region_unknown"],
            topic=services.topic_titles().get(topic, labels["other_topic"]),
            description=tracker.get_slot("complaint_description"),
            since=tracker.get_slot("complaint_since"),
            workers=tracker.get_slot("complaint_workers"),
            contact=labels["anonymous"] if phone in (None, ANONYMOUS) else phone,
            consent=labels["consent_yes"] if tracker.get_slot("complaint_consent") else labels["consent_no"],
        )
        return []


def said_region(tracker: Tracker) -> str | None:
    """Where the worker works, as the form took it; None when they skipped the question."""
    region = tracker.get_slot("complaint_region")
    return None if region in (None, NOT_SAID) else region


def draft_from(tracker: Tracker) -> ComplaintDraft:
    phone = tracker.get_slot("complaint_phone")
    phone = None if phone in (None, ANONYMOUS) else phone
    return ComplaintDraft(
        sender_id=tracker.sender_id, channel=tracker.get_latest_input_channel(),
        employer=tracker.get_slot("complaint_employer"), topic=tracker.get_slot("complaint_topic"),
        description=tracker.get_slot("complaint_description"),
        since_text=tracker.get_slot("complaint_since"),
        workers_affected=int(tracker.get_slot("complaint_workers") or 1),
        phone=phone, consent_to_contact=bool(phone and tracker.get_slot("complaint_consent")),
        region=said_region(tracker))


def cleared() -> list[EventType]:
    return [SlotSet(slot, None) for slot in FORM_SLOTS]


class ActionSubmitComplaint(Action):
    """Commits the complaint, and only then tells the worker the ticket number."""

    def __init__(self, service: Callable[[], ComplaintService] | None = None) -> None:
        self._service = service or services.complaint_service

    def name(self) -> str:
        return "action_submit_complaint"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        try:
            draft = draft_from(tracker)
            result = await asyncio.to_thread(self._service().submit, draft)
        except StorageUnavailable:
            dispatcher.utter_message(response="utter_complaint_not_saved")
            return [SlotSet("complaint_confirmed", None)]  # keep the answers for a retry
        except Exception:
            logger.exception("complaint submission failed sender=%s", tracker.sender_id)
            dispatcher.utter_message(response="utter_complaint_not_saved")
            return [SlotSet("complaint_confirmed", None)]
        response = "utter_complaint_filed" if result.created else "utter_complaint_already_filed"
        # custom.ticket: the web chat puts 复制 / 查询进度 under the ticket number
        dispatcher.utter_message(response=response, ticket=result.complaint.ticket,
                                 json_message={"ticket": result.complaint.ticket})
        return cleared()


class ActionStopComplaint(Action):
    def name(self) -> str:
        return "action_stop_complaint"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_complaint_stopped")
        return cleared() + [SlotSet("requested_slot", None)]


class ActionCheckComplaint(Action):
    """Status of the worker's own complaints; another worker's ticket reads as unknown."""

    def __init__(self, service: Callable[[], ComplaintService] | None = None) -> None:
        self._service = service or services.complaint_service

    def name(self) -> str:
        return "action_check_complaint"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        # typed, or the web chat's 查询进度 button (/check_complaint{"ticket": …})
        ticket = find_ticket(tracker.latest_message.get("text") or "")
        service = self._service()
        try:
            if ticket:
                complaints = [await asyncio.to_thread(service.for_sender, ticket, tracker.sender_id)]
            else:
                complaints = list(await asyncio.to_thread(service.recent_for_sender, tracker.sender_id))
        except TicketNotFound:
            dispatcher.utter_message(response="utter_complaint_ticket_unknown", ticket=ticket)
            return []
        except StorageUnavailable:
            dispatcher.utter_message(response="utter_storage_down")
            return []
        if not complaints:
            dispatcher.utter_message(response="utter_complaint_none")
        statuses = service_rules()["labels"]["status"]
        for complaint in complaints:
            dispatcher.utter_message(
                response="utter_complaint_status", ticket=complaint.ticket, employer=complaint.employer,
                status=statuses.get(complaint.status, complaint.status),
                date=f"{complaint.updated_at:%Y-%m-%d}")
            if complaint.status_reason:
                dispatcher.utter_message(response="utter_complaint_status_reason",
                                         reason=complaint.status_reason)
        return []
