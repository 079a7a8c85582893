"""What a worker gets back for a real question: the dev set of ../shared/eval through the real
REST channel (Rasa + action server, embedded defaults), one new conversation per question.

Each first reply is read as the worker would: an answer (the topic its ``{"topic": id}`` tag names), an
ask-back (the message tagged ``{"clarify": [ids…]}``: the worker then presses the right topic if it
is offered, and the reply to that press is checked too), or a rejection. Prints, for in-scope
questions: answered right at once, resolved within one ask-back, asked back, answered with a wrong
topic; for out-of-scope questions: rejected or asked back (never answered as a labour topic).
The real questions are measured only, never trained on.

    .venv/bin/python bench/conversation.py
"""
from __future__ import annotations

import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import REST_AUTH, TOPIC_IDS, Assistant, load_real_questions, project_model  # noqa: E402

def say(url: str, sender: str, text: str) -> list[dict]:
    response = requests.post(f"{url}/webhooks/rest/webhook", headers=REST_AUTH,
                             json={"sender": sender, "message": text}, timeout=60)
    response.raise_for_status()
    return response.json()


def answered_topic(messages: list[dict]) -> str | None:
    """The topic the reply answers: the first ``{"topic": id}`` tag among its messages."""
    for message in messages:
        topic = (message.get("custom") or {}).get("topic")
        if topic:
            return topic
    return None


def clarified(messages: list[dict]) -> list[str] | None:
    for message in messages:
        options = (message.get("custom") or {}).get("clarify")
        if options:
            return list(options)
    return None


def main() -> None:
    project_model()
    questions = load_real_questions()
    outcome: Counter[str] = Counter()
    with Assistant() as assistant:
        started = time.perf_counter()
        for text, label in questions:
            sender = f"bench-{uuid.uuid4().hex}"
            reply = say(assistant.rasa_url, sender, text)
            options, topic = clarified(reply), answered_topic(reply)
            group = "in" if label in TOPIC_IDS else label
            if options is not None:
                outcome[f"{group}:asked"] += 1
                if label in options:
                    pressed = answered_topic(say(assistant.rasa_url, sender, f"/{label}"))
                    outcome[f"{group}:resolved" if pressed == label else f"{group}:press_failed"] += 1
            elif topic is not None:
                outcome[f"{group}:answered"] += 1
                outcome[f"{group}:right" if topic == label else f"{group}:wrong"] += 1
                if topic == label:
                    outcome[f"{group}:resolved"] += 1
            else:
                outcome[f"{group}:other"] += 1  # rejected, a person, a greeting, a calculation question
        seconds = time.perf_counter() - started
    n_in = sum(1 for _, label in questions if label in TOPIC_IDS)
    n_oos = sum(1 for _, label in questions if label == "out_of_scope")

    def share(key: str, total: int) -> str:
        return f"{outcome[key] / max(total, 1):6.1%} ({outcome[key]}/{total})"

    print(f"dev set through the REST channel: {len(questions)} questions, {seconds:.0f} s")
    print(f"in scope ({n_in}):")
    print(f"  answered right at once        {share('in:right', n_in)}")
    print(f"  resolved within one ask-back  {share('in:resolved', n_in)}")
    print(f"  asked back                    {share('in:asked', n_in)}")
    print(f"  answered with a wrong topic   {share('in:wrong', n_in)}")
    print(f"  neither answered nor asked    {share('in:other', n_in)}")
    if outcome["in:press_failed"]:
        print(f"  pressing the right topic did not answer it: {outcome['in:press_failed']}")
    not_answered = n_oos - outcome["out_of_scope:answered"]
    print(f"out of scope ({n_oos}): rejected or asked back {not_answered / max(n_oos, 1):6.1%} "
          f"({not_answered}/{n_oos}); asked back {outcome['out_of_scope:asked']}")


if __name__ == "__main__":
    main()
