"""Ask back instead of guessing: when the model is unsure (``nlu_fallback``), offer the topics it
ranked highest as buttons, with a way to a person and a way out.

The choice is one click: a topic button sends ``/<topic id>``, answered by the topic's own rule
(and calculation, when the worker's message carried the numbers). The ask-back message carries
``{"clarify": [ids…]}`` in its custom payload, in the order shown, for integrations and analytics.
A story that raises several problems is not a guess between them: all are listed (in the order
written), to pick one or to hand the whole story to a person.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from bot.knowledge.subs import SUB_GUESS_ENTITY, sub_payload

MAX_OPTIONS = 3
# Out of scope below this confidence is asked back like a fallback (a labour question may be behind
# it); at or above it the worker gets the redirect. Tuned on tests/nlu, measured on the dev set.
OUT_OF_SCOPE_SURE = 0.5
# "None of these": a person, or the redirect that says what the bot covers.
NONE_HUMAN = {"title": "都不是，转人工", "payload": "/request_human"}
NONE = {"title": "都不是", "payload": "/out_of_scope"}
# After the topics of a story with several problems: the whole story to a person.
HUMAN = {"title": "转人工", "payload": NONE_HUMAN["payload"]}
# Between the titles of the topics a story raises ("劳动合同签订 · 加班费 · 拖欠工资").
TITLE_SEPARATOR = " · "


def clarify_options(ranking: Iterable[Mapping[str, Any]], titles: Mapping[str, str],
                    limit: int = MAX_OPTIONS) -> list[str]:
    """The topics of the model's ranking (best first), at most ``limit``; other intents are skipped."""
    options: list[str] = []
    for entry in ranking:
        name = entry.get("name")
        if name in titles and name not in options:
            options.append(name)
        if len(options) == limit:
            break
    return options


def clarify_message(question: str, options: list[str], titles: Mapping[str, str],
                    subs: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The ask-back: the question, one button a topic, then the two ways out; tagged for integrations.
    A topic with a guessed sub-answer (``subs``: topic → sub id) asks for that sub-answer."""
    subs = subs or {}
    buttons = [{"title": titles[o], "payload": sub_payload(o, subs[o]) if o in subs else f"/{o}"}
               for o in options] + [dict(NONE_HUMAN), dict(NONE)]
    return {"text": question, "buttons": buttons, "json_message": {"clarify": list(options)}}


def several_message(response: str, topics: list[str], titles: Mapping[str, str]) -> dict[str, Any]:
    """``response`` naming ``topics`` (its ``{titles}``), one button a topic and one to a person."""
    shown = [t for t in topics if t in titles]
    buttons = [{"title": titles[t], "payload": f"/{t}"} for t in shown] + [dict(HUMAN)]
    return {"response": response, "titles": TITLE_SEPARATOR.join(titles[t] for t in shown), "buttons": buttons}


def sub_guesses(entities: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Topic → sub-answer id of the message's ``sub_guess`` entities ("work_injury/uninsured")."""
    guesses: dict[str, str] = {}
    for entity in entities:
        topic, _, sub = str(entity.get("value") or "").partition("/")
        if entity.get("entity") == SUB_GUESS_ENTITY and topic and sub:
            guesses.setdefault(topic, sub)
    return guesses
