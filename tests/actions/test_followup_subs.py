"""An unsure follow-up on the topic just answered gets the sub-answer the model guessed for it, as a
sure message would, instead of the topic's general "it depends" or next steps; "how much" still gets
the amounts (actions/followups.py).

工伤保险条例 第17条: the employer applies within 30 days; the worker, a close relative or the union
within 1 year.
"""
from __future__ import annotations

import asyncio

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.followups import ActionFollowup

INJURY_ANSWER = {"event": "bot", "text": "【工伤认定与待遇】…", "data": {"custom": {"topic": "work_injury"}}}


def follow_up(ranked: list[str], guesses: list[str]) -> list[dict]:
    """action_followup on an unsure message after a work-injury answer: the messages it sends."""
    ranking = [{"name": "nlu_fallback", "confidence": 0.2}] + [
        {"name": name, "confidence": 0.3 / (i + 1)} for i, name in enumerate(ranked)]
    message = {"text": "家里人能不能替他去办认定", "intent": {"name": "nlu_fallback", "confidence": 0.2},
               "intent_ranking": ranking,
               "entities": [{"entity": "sub_guess", "value": guess} for guess in guesses]}
    events = [INJURY_ANSWER, {"event": "user", "text": message["text"], "parse_data": message}]
    tracker = Tracker("worker", {}, message, events, False, None, None, "action_listen")
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionFollowup().run(dispatcher, tracker, {"responses": {}}))
    return dispatcher.messages


def test_the_guessed_sub_answer_of_the_topic_just_answered_is_given():
    # ranked next to a follow-up on the next steps: the sub-answer, which has its own next step
    [reply] = follow_up(["work_injury", "ask_next_steps"], ["work_injury/apply", "sick_leave/pay"])
    assert reply["text"].startswith("【工伤认定与待遇·怎么申请工伤认定】")
    assert "近亲属" in reply["text"] and "1年" in reply["text"]
    assert reply["custom"]["topic"] == "work_injury" and reply["custom"]["sub"] == "apply"
    # the basis is folded into the details, as in the topic's own sub-answer
    assert "工伤保险条例" in reply["custom"]["details"]["text"]
    assert "依据" not in reply["text"]


def test_how_much_gets_the_amounts_whatever_sub_answer_was_guessed():
    [reply] = follow_up(["work_injury", "ask_amount"], ["work_injury/death"])
    assert reply["response"] == "utter_followup_injury_amounts"
    assert reply["custom"] == {"topic": "work_injury"}


def test_without_a_guess_for_that_topic_or_with_another_topic_first_it_depends():
    for ranked, guesses in ((["work_injury", "sick_leave"], ["sick_leave/pay"]),
                            (["sick_leave", "work_injury"], ["work_injury/apply"])):
        [reply] = follow_up(ranked, guesses)
        assert reply["response"] == "utter_followup_depends"
        assert reply["custom"] == {"topic": "work_injury"}
