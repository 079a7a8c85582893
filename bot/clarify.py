"""Ask back instead of guessing: when the model is unsure (``nlu_fallback``), offer the topics it
ranked highest as buttons, with a way to a person and a way out.

The choice is one click: a topic button sends ``/<topic id>``, answered by the topic's own rule
(and calculation, when the worker's message carried the numbers). The ask-back message carries
``{"clarify": [ids…]}`` in its custom payload, in the order shown, for integrations and analytics.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

MAX_OPTIONS = 3
# Out of scope below this confidence is asked back like a fallback (a labour question may be behind
# it); at or above it the worker gets the redirect. Tuned on tests/nlu, measured on the dev set.
OUT_OF_SCOPE_SURE = 0.5
# "None of these": a person, or the redirect that says what the bot covers.
NONE_HUMAN = {"title": "都不是，转人工", "payload": "/request_human"}
NONE = {"title": "都不是", "payload": "/out_of_scope"}


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


def clarify_message(question: str, options: list[str], titles: Mapping[str, str]) -> dict[str, Any]:
    """The ask-back: the question, one button a topic, then the two ways out; tagged for integrations."""
    buttons = [{"title": titles[o], "payload": f"/{o}"} for o in options] + [dict(NONE_HUMAN), dict(NONE)]
    return {"text": question, "buttons": buttons, "json_message": {"clarify": list(options)}}
