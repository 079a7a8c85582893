"""Follow-ups on the topic just answered: the amounts, the next steps, "and if …?".

``action_followup`` answers "那能赔多少？", "那我该怎么办？" and elliptical questions ("要是公司
不同意呢") for the topic of the bot's last answer (bot/followups.py), or for the one topic that a "how
much" or "what now" names itself ("那被辞退了能赔多少"): the work-injury amounts,
the region's minimum wage, the worker's own calculation, the topic's sub-answer the model guessed for
an unsure message, or the topic's next steps. Without a topic it asks back like an unclear message.
Every reply carries the topic's tag.
"""
from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import services
from actions.calculators import ActionCalculate, latest_intent, message_entities, utter_minimum_wage
from actions.clarify import ActionClarify
from bot.calculate.dialogue import fresh_values
from bot.calculate.kinds import CALC_SLOTS, Kind, Slot
from bot.clarify import sub_guesses
from bot.followups import (AMOUNT_KINDS, FOLLOWUP_INTENTS, INJURY_TOPICS, followup_intent, last_topic, load_cues,
                           named_topic, ranked_intents)
from bot.knowledge.generate import folded
from bot.knowledge.subs import Sub, all_subs, render_sub, sub_tag
from bot.knowledge.topics import topic_tag

# Entities that carry a calculation's numbers: "那要是干了两年呢" redoes the last calculation.
NUMBER_ENTITIES = frozenset({"duration", "money", "hours", "days", "date", "day_type", "birth", "babies", "cause",
                             "contract"})


class ActionFollowup(Action):
    def name(self) -> str:
        return "action_followup"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        # the topic the message names ("那被辞退了能赔多少"), else the one just answered
        topic = named_topic(tracker.latest_message) or last_topic(tracker.events)
        if topic in services.topics():
            events = await self._answer(dispatcher, tracker, domain, topic)
        else:  # nothing answered yet: which topic?
            events = await ActionClarify().run(dispatcher, tracker, domain)
        # The reply is complete: wait for the worker, whichever path (a story, the ask-back) led here.
        if not any(e.get("event") == "followup" for e in events):
            events.append(FollowupAction("action_listen"))
        return events

    async def _answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict,
                      topic: str) -> list[EventType]:
        intent = followup_intent(tracker.latest_message, topic) or latest_intent(tracker)
        if intent not in FOLLOWUP_INTENTS and load_cues().asks_next_steps(tracker.latest_message.get("text") or ""):
            intent = "ask_next_steps"  # "那现在咋整" that the model could not place
        kind = Kind.for_topic(topic)
        if kind and (kind in AMOUNT_KINDS and intent == "ask_amount" or _names_numbers(tracker, kind)):
            return await _calculate(dispatcher, tracker, domain, kind)
        tag = topic_tag(topic)
        if intent == "ask_amount" and topic in INJURY_TOPICS:
            dispatcher.utter_message(response="utter_followup_injury_amounts", json_message=tag)
        elif topic == "minimum_wage" and (intent == "ask_amount" or _named_region(tracker)):
            region = services.region(_named_region(tracker) or tracker.get_slot(Slot.REGION))
            utter_minimum_wage(dispatcher, region)
        elif intent == "ask_amount":
            found = services.topics()[topic]
            dispatcher.utter_message(response="utter_followup_amount", title=found.title, answer=found.answer,
                                     json_message=tag)
        elif (sub := _guessed_sub(tracker, topic)) is not None:  # its own 下一步 line says how to go on
            card = folded(render_sub(sub, services.topics()[topic].title), sub_tag(topic, sub.id))
            dispatcher.utter_message(text=card["text"], json_message=card["custom"])
        else:
            found = services.topics()[topic]
            response = "utter_followup_next_steps" if intent == "ask_next_steps" else "utter_followup_depends"
            dispatcher.utter_message(response=response, title=found.title, next=found.next_step, json_message=tag)
        return []


def _guessed_sub(tracker: Tracker, topic: str) -> Sub | None:
    """The sub-answer of ``topic`` (the one just answered) that an unsure message asks for: the model
    ranked that topic first and guessed the sub-answer ("家里人能不能替他去办认定" after a work-injury
    answer: who may apply and when) — what the worker would get had the model been sure."""
    ranked = ranked_intents(tracker.latest_message)
    guessed = sub_guesses(tracker.latest_message.get("entities") or []).get(topic)
    if not ranked or ranked[0] != topic or guessed is None:
        return None
    return next((sub for sub in all_subs().get(topic, []) if sub.id == guessed), None)


def _named_region(tracker: Tracker) -> str | None:
    """The region the message names ("上海的" after the minimum-wage answer)."""
    return next((e.get("value") for e in tracker.latest_message.get("entities") or []
                 if e.get("entity") == "region"), None)


def _names_numbers(tracker: Tracker, kind: Kind) -> bool:
    """Numbers for ``kind``'s calculation; a disability grade or a death only for the work-injury one."""
    names = NUMBER_ENTITIES | ({"injury"} if kind is Kind.WORK_INJURY else set())
    return any(e.get("entity") in names for e in message_entities(tracker))


async def _calculate(dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict,
                     kind: Kind) -> list[EventType]:
    """The topic's own calculation, as action_calculate does it: redone with the numbers known and
    the new ones, or the form started for what is missing."""
    values = {slot: tracker.get_slot(slot) for slot in CALC_SLOTS}
    if values[Slot.KIND] != kind.value:
        values = fresh_values(values)
        values.pop(Slot.REGION, None)  # the region slot is the worker's, not the calculation's
    values[Slot.KIND] = kind.value
    calculation = tracker.copy()
    calculation.slots.update(values)
    events = [SlotSet(k, v) for k, v in values.items()]
    return events + await ActionCalculate().run(dispatcher, calculation, domain)
