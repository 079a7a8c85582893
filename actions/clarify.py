"""The model is unsure: ask which topic the worker means (bot/clarify.py), or ask to rephrase
when it has no topic to offer. Out of scope is redirected when the model is sure of it, and asked
back like a fallback when it is not. A story that raises several problems gets them all listed,
whether the model placed it (after the answer) or not (instead of the ask-back)."""
from __future__ import annotations

from functools import lru_cache

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.clarify import OUT_OF_SCOPE_SURE, clarify_message, clarify_options, several_message, sub_guesses
from bot.followups import continues_topic, last_topic, load_cues
from bot.knowledge.signals import ALSO_ENTITY, MAX_OTHERS, SEVERAL, raised_topics
from bot.knowledge.topics import load_topics


@lru_cache(maxsize=1)
def topic_titles() -> dict[str, str]:
    return {topic.id: topic.title for topic in load_topics()}


class ActionClarify(Action):
    def name(self) -> str:
        return "action_clarify"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        if not has_words(tracker.latest_message.get("text") or ""):  # "😭😭", "？？？": nothing to guess from
            dispatcher.utter_message(response="utter_no_words")
            return []
        intent = tracker.latest_message.get("intent") or {}
        if intent.get("name") == "out_of_scope" and (intent.get("confidence") or 0) >= OUT_OF_SCOPE_SURE:
            dispatcher.utter_message(response="utter_out_of_scope")
            return []
        if _follows_up(tracker):  # "那这种情况呢" right after an answer: about that topic
            return [FollowupAction("action_followup")]
        ranking = tracker.latest_message.get("intent_ranking") or []
        raised = raised_topics(None, ranking, tracker.latest_message.get("text") or "")[:MAX_OTHERS + 1]
        if len(raised) >= SEVERAL:  # not a guess between topics: the story raises them all
            dispatcher.utter_message(**several_message("utter_several_found", raised, topic_titles()),
                                     json_message={"clarify": raised})
            return []
        options = clarify_options(ranking, topic_titles())
        if not options:
            dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        question = domain["responses"]["utter_clarify"][0]["text"]
        guesses = sub_guesses(tracker.latest_message.get("entities") or [])
        dispatcher.utter_message(**clarify_message(question, options, topic_titles(), guesses))
        return []


def has_words(text: str) -> bool:
    """A letter or a digit (Chinese characters are letters): emoji and punctuation alone are no question."""
    return any(character.isalnum() for character in text)


def _follows_up(tracker: Tracker) -> bool:
    """A message the model could not place that reads as a follow-up on the topic answered last."""
    return continues_topic(tracker.latest_message, last_topic(tracker.events), load_cues())


class ActionOutOfScope(ActionClarify):
    """Out of scope: the same decision under its own name, so that an unclear message after the
    redirect is asked back, not taken as the second fallback in a row."""

    def name(self) -> str:
        return "action_out_of_scope"


class ActionAlsoMentioned(Action):
    """After the answer of one topic: the other topics the message named, as buttons."""

    def name(self) -> str:
        return "action_also_mentioned"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        offer_also_mentioned(dispatcher, tracker)
        return []


def offer_also_mentioned(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Offer the second topic the message named ("你还提到了：…" with its button), or, when the story
    raised several problems, all the others and a person ("你的情况里还涉及：…"); untagged, so the
    conversation's topic stays the one just answered."""
    titles = topic_titles()
    others = [t for t in dict.fromkeys(e.get("value") for e in tracker.latest_message.get("entities") or []
                                       if e.get("entity") == ALSO_ENTITY) if t in titles]
    if len(others) == 1:
        also = others[0]
        dispatcher.utter_message(response="utter_also_mentioned", title=titles[also],
                                 buttons=[{"title": titles[also], "payload": f"/{also}"}])
    elif others:
        dispatcher.utter_message(**several_message("utter_several_mentioned", others, titles))
