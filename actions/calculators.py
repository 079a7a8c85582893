"""The worker's own numbers: calculate when the message has them, ask only for what is missing.

``action_calculate`` answers the calculator topics (and the minimum wage, which names the
worker's region's figure). With the numbers in the message it replies with the result at
once; with some of them it starts ``calc_form`` for the rest; with none it gives the rule
and offers to calculate. Thin: slot filling, the calculators and the wording live in bot.*.
"""
from __future__ import annotations

import logging
from typing import Any

from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import services
from actions.clarify import offer_also_mentioned
from bot.calculate.answer import answer
from bot.calculate.dialogue import (
    CARRIED, carried_note, carried_values, fresh_values, grade_months_reply, guess_kind, minimum_wage_replies,
    national_first, service_months_reply, start_reply,
)
from bot.calculate.fill import bare_answer, fill
from bot.calculate.injury import injury_entities
from bot.calculate.kinds import CALC_SLOTS, Kind, Slot, missing_slots
from bot.followups import last_topic
from bot.knowledge.calc import Rendered
from bot.knowledge.regions import Region
from bot.knowledge.topics import topic_tag
from bot.nlu.entities import china_today

logger = logging.getLogger(__name__)

FORM = "calc_form"
RETRIES = "calc_retries"
MAX_RETRIES = 2
# Intents the form never swallows: their own rules take over (stop, a person, a complaint,
# "delete my data", "那下一步怎么办" / "要是公司不同意呢" about the topic being calculated).
PASS_THROUGH = {"stop", "goodbye", "request_human", "urgent_help", "file_complaint", "forget_me",
                "ask_next_steps", "ask_what_if"}
SWITCH_CONFIDENCE = 0.6
# "九级的话能拿多少" while the wage is asked: what the grade is worth, then the wage asked again.
AMOUNT_ASKED = {"ask_amount", "work_injury"}
CALCULATE_INTENT = "calculate"


def latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def message_entities(tracker: Tracker, requested: str | None = None) -> list[dict[str, Any]]:
    """The latest message's entities: the extractor's, and the work-injury grade, death and wage
    words in its text (a bare "九级" is a grade while a work-injury calculation is under way)."""
    entities = list(tracker.latest_message.get("entities") or [])
    calculating = tracker.get_slot(Slot.KIND) == Kind.WORK_INJURY.value
    return entities + injury_entities(tracker.latest_message.get("text") or "", entities, requested,
                                      calculating=calculating)


def _values(tracker: Tracker) -> dict[str, Any]:
    return {s: tracker.get_slot(s) for s in (*CALC_SLOTS, Slot.REGION, CARRIED)}


def _set(values: dict[str, Any]) -> list[EventType]:
    return [SlotSet(k, v) for k, v in values.items()]


def _region(tracker: Tracker, values: dict[str, Any]) -> Region | None:
    return services.region(values.get(Slot.REGION) or tracker.get_slot(Slot.REGION))


def utter_after_rule(dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, topic: str,
                     response: str) -> None:
    """The topic's rule and ``response`` in one message (one chat bubble, the response's buttons).

    Rasa sends a message with its own text and buttons as it is, so both responses are rendered
    here by Rasa's own generator, as Rasa renders a response it is asked for (slots filled in,
    the doubled braces of a button's ``/intent{{...}}`` payload made single again).
    """
    nlg = TemplatedNaturalLanguageGenerator(domain.get("responses") or {})
    slots, channel = tracker.current_slot_values(), tracker.get_latest_input_channel() or ""
    rule, extra = (nlg.generate_from_slots(name, slots, channel) for name in (f"utter_{topic}_answer", response))
    if not rule or not extra:
        dispatcher.utter_message(response=f"utter_{topic}_answer")
        dispatcher.utter_message(response=response)
        return
    # one newline: channels split a text into separate messages at blank lines
    # the rule's own tag (a sub-answer's names it) and buttons (the overview's sub-answers) first
    dispatcher.utter_message(text=f"{rule['text']}\n{extra['text']}",
                             buttons=[*(rule.get("buttons") or []), *(extra.get("buttons") or [])],
                             json_message=rule.get("custom") or topic_tag(topic))


def utter_minimum_wage(dispatcher: CollectingDispatcher, region: Region | None) -> None:
    """The region's figure with its date, and a word when it may have been raised since."""
    for reply in minimum_wage_replies(region, china_today()):
        dispatcher.utter_message(**reply, json_message=topic_tag("minimum_wage"))


class ActionCalculate(Action):
    def name(self) -> str:
        return "action_calculate"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        try:
            return self._answer(dispatcher, tracker, domain)
        except Exception:  # never leave the worker without a reply
            logger.exception("calculation failed for %s", tracker.sender_id)
            dispatcher.utter_message(response="utter_calc_failed")
            return []

    def _answer(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                domain: DomainDict) -> list[EventType]:
        intent = latest_intent(tracker)
        values = _values(tracker)
        if tracker.latest_action_name == FORM:
            if values[Slot.KIND]:  # the form has all it needs
                return self._calculate_or_ask(dispatcher, tracker, Kind(values[Slot.KIND]), values)
            if intent not in services.topic_titles():  # given up after answers it did not understand
                return []
        if intent == "minimum_wage":
            dispatcher.utter_message(response="utter_minimum_wage_answer")
            utter_minimum_wage(dispatcher, _region(tracker, values))
            return []
        entities = message_entities(tracker)
        kind = Kind.for_topic(intent)
        if kind is None and intent in services.topic_titles():  # left the form for another topic
            dispatcher.utter_message(response=f"utter_{intent}_answer")
            return []
        if kind is None:  # a bare answer ("六千") or the "calculate" button
            region = _region(tracker, values)
            names_region = region is not None and any(e.get("entity") == "region" for e in entities)
            if names_region and intent != CALCULATE_INTENT and last_topic(tracker.events) == "minimum_wage":
                # "我在深圳" right after the minimum wage: that region's figure
                utter_minimum_wage(dispatcher, region)
                return []
            kind = self._kind_of_answer(tracker, intent, entities, values)
            if kind is None and names_region:
                dispatcher.utter_message(response="utter_region_noted", region=region.name)
                return []
            if kind is None:
                dispatcher.utter_message(response="utter_calc_which")
                return []
        if kind.value != values[Slot.KIND]:
            values = fresh_values(values)
        updates = fill(kind, entities, requested=None, current=values, today=china_today())
        if not updates and intent == kind.topic:  # the rule, and an offer to calculate
            utter_after_rule(dispatcher, tracker, domain, kind.topic, f"utter_calc_offer_{kind.value}")
            return [SlotSet(Slot.KIND, kind.value)]  # "我在这干了两年" next: numbers for this offer
        values.update(updates)
        values[CARRIED] = carried_values(values, updates)  # a new question: what it takes from earlier ones
        rule_first = kind.topic if intent == kind.topic else None  # "…一年多没签合同，怎么办"
        return self._calculate_or_ask(dispatcher, tracker, kind, values, domain, rule_first)

    @staticmethod
    def _kind_of_answer(tracker: Tracker, intent: str | None, entities: list[dict[str, Any]],
                        values: dict[str, Any]) -> Kind | None:
        if intent == CALCULATE_INTENT:
            asked = next((e.get("value") for e in entities if e.get("entity") == Slot.KIND), None)
            return next((k for k in Kind if k.value == asked), None)
        if values[Slot.KIND]:
            return Kind(values[Slot.KIND])  # a correction of the last calculation
        return guess_kind(entities) or Kind.for_topic(last_topic(tracker.events))  # "干了两年" after its topic

    def _calculate_or_ask(self, dispatcher: CollectingDispatcher, tracker: Tracker, kind: Kind,
                          values: dict[str, Any], domain: DomainDict | None = None,
                          rule_first: str | None = None) -> list[EventType]:
        values[Slot.KIND] = kind.value
        if missing_slots(kind, values):
            start = start_reply(kind, values)
            if national_first(kind, values):  # "顺产三胞胎产假多少天": 第7条's figure now, the region asked next
                _utter_result(dispatcher, kind, answer(kind, values, today=china_today()))
            elif rule_first and domain is not None and start["response"] == f"utter_calc_start_{kind.value}":
                utter_after_rule(dispatcher, tracker, domain, rule_first, start["response"])  # the rule, then ask
            else:  # or what the numbers said are worth already ("十级伤残" -> 7 months' wage)
                dispatcher.utter_message(**start, json_message=topic_tag(kind.topic))
            offer_also_mentioned(dispatcher, tracker)  # the form runs next, before the rule would offer it
            return [*_set(values), SlotSet(RETRIES, 0), FollowupAction(FORM)]
        try:
            result = answer(kind, values, today=china_today(), region=_region(tracker, values))
        except ValueError as error:
            logger.info("calculation refused %s: %s", kind.value, error)
            dispatcher.utter_message(response="utter_calc_invalid")
            return [SlotSet(Slot.KIND, None)]
        _utter_result(dispatcher, kind, result, carried_note(kind, values))
        dispatcher.utter_message(response="utter_calc_next")
        return _set(values)


def _utter_result(dispatcher: CollectingDispatcher, kind: Kind, result: Rendered, note: str = "") -> None:
    """The conclusion as the text (and under it ``note``: which numbers came from earlier questions);
    the working and citations in the payload, folded by the channel."""
    text = f"{result.conclusion}\n{note}" if note else result.conclusion
    dispatcher.utter_message(text=text, json_message={**topic_tag(kind.topic), **result.payload()})


class ValidateCalcForm(FormValidationAction):
    """Fills the calculation's slots from each answer; corrections overwrite; leaving is allowed."""

    def name(self) -> str:
        return "validate_calc_form"

    @staticmethod
    def _kind(tracker: Tracker) -> Kind | None:
        value = tracker.get_slot(Slot.KIND)
        return Kind(value) if value else None

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> list[str]:
        """Every slot the calculation reads, so that a correction of a filled one is kept."""
        kind = self._kind(tracker)
        return list(kind.slots) if kind else []

    async def get_validation_events(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> list[EventType]:
        """The extracted slots as they are: the calculators check values, not the form."""
        kind = self._kind(tracker)
        allowed = {Slot.KIND, RETRIES, "requested_slot", *(kind.slots if kind else ())}
        return [SlotSet(k, v) for k, v in tracker.slots_to_validate().items() if k in allowed]

    async def next_requested_slot(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> EventType | None:
        """Only what is still missing is asked (optional slots never are)."""
        kind = self._kind(tracker)
        missing = missing_slots(kind, _values(tracker)) if kind else []
        return SlotSet("requested_slot", missing[0] if missing else None)

    async def get_extraction_events(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> list[EventType]:
        kind_value = tracker.get_slot(Slot.KIND)
        if not kind_value:
            return [SlotSet("requested_slot", None)]
        kind = Kind(kind_value)
        requested = tracker.get_slot("requested_slot")
        today = china_today()
        entities = message_entities(tracker, requested) or bare_answer(
            requested, tracker.latest_message.get("text") or "", today)
        updates = fill(kind, entities, requested=requested, current=_values(tracker), today=today)
        if requested is None:
            return _set(updates)  # the form is starting: nothing was asked yet, so nothing went unanswered
        if requested not in updates and _asks_a_question(tracker):
            # "一年能休几天年假" while the wage is asked: a question to answer (action_calculate
            # then answers it, or starts again), not a correction or an answer it cannot read
            return [SlotSet(Slot.KIND, None), SlotSet("requested_slot", None)]
        hint = grade_months_reply(kind, {**_values(tracker), **updates})
        if hint and requested not in updates and (Slot.INJURY in updates or latest_intent(tracker) in AMOUNT_ASKED):
            dispatcher.utter_message(**hint, json_message=topic_tag(kind.topic))  # "九级能拿多少？"
            # a slot event keeps the form (an answer that fills nothing makes Rasa reject it)
            return _set({Slot.INJURY: tracker.get_slot(Slot.INJURY), **updates})
        months = service_months_reply(kind, {**_values(tracker), **updates})
        if months and requested not in updates and Slot.MONTHS_SERVICE in updates:
            dispatcher.utter_message(**months, json_message=topic_tag(kind.topic))  # "要是干了两年半呢"
            return _set(updates)
        if updates:
            return _set(updates)
        return self._nothing_extracted(dispatcher, tracker, kind)

    def _nothing_extracted(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                           kind: Kind) -> list[EventType]:
        if latest_intent(tracker) in PASS_THROUGH:
            return []  # rejected: the rules for these intents take over
        retries = int(tracker.get_slot(RETRIES) or 0) + 1
        if retries > MAX_RETRIES:
            dispatcher.utter_message(response="utter_calc_given_up")
            return [SlotSet(Slot.KIND, None), SlotSet(RETRIES, 0), SlotSet("requested_slot", None)]
        # "那能赔多少" while a number is asked: the answer to it is what the amount needs
        asks_amount = latest_intent(tracker) == "ask_amount"
        dispatcher.utter_message(response="utter_calc_amount_needs" if asks_amount else "utter_calc_not_understood")
        return [SlotSet(RETRIES, retries)]


def _asks_a_question(tracker: Tracker) -> bool:
    """The message is confidently a question on a rights topic (this calculation's or another)."""
    confidence = float((tracker.latest_message.get("intent") or {}).get("confidence") or 0)
    return latest_intent(tracker) in services.topic_titles() and confidence >= SWITCH_CONFIDENCE


class ActionStopCalculation(Action):
    def name(self) -> str:
        return "action_stop_calculation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_calc_stopped")
        return [SlotSet(s, None) for s in CALC_SLOTS] + [SlotSet(RETRIES, 0)]
