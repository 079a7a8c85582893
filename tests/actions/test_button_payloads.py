"""Every button payload the bot shows reaches Rasa as the intent and entities it names.

The payloads come from every place that makes buttons: the responses of domain.yml and of the
generated knowledge (merged by Rasa's importer, as for training), the messages
``action_calculate`` composes itself, and the WeChat menu. Each is rendered the way Rasa
delivers it to a channel and then read back with Rasa's own parser for ``/intent{...}``
messages (the RegexMessageHandler of config.yml), which only warns when it cannot read one.
"""
from __future__ import annotations

import asyncio
import json
import re
import warnings
from contextlib import contextmanager
from typing import Iterator

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.importers.importer import TrainingDataImporter
from rasa.shared.nlu.training_data.message import Message
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from structlog.testing import capture_logs

from actions.calculators import CALCULATE_INTENT, ActionCalculate
from actions.clarify import ActionAlsoMentioned, ActionClarify, ActionOutOfScope
from bot.calculate.kinds import Kind, Slot
from bot.channels.wechat_menu import click_payloads
from bot.knowledge.generate import MAX_SUB_BUTTONS, write_training_data
from bot.knowledge.subs import all_subs
from tests.conftest import ROOT

CHANNEL = "rest"
# A "{name}" variable of a response (not a doubled "{{" nor JSON)
PLACEHOLDER = re.compile(r"(?<!{){(\w+)}(?!})")


@pytest.fixture(scope="module")
def domain(tmp_path_factory: pytest.TempPathFactory) -> Domain:
    """The domain Rasa trains with: domain.yml and the responses of the (freshly generated) training data."""
    generated = write_training_data(output=tmp_path_factory.mktemp("generated") / "knowledge.yml")
    data = [str(p) for p in (ROOT / "data").iterdir() if p.is_dir() and p.name != "generated"]
    importer = TrainingDataImporter.load_from_config(
        str(ROOT / "config.yml"), str(ROOT / "domain.yml"), [*data, str(generated)])
    return importer.get_domain()


def _fresh_tracker(domain: Domain) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("worker", [], slots=domain.slots)


def _buttons(message: dict) -> list[tuple[str, str]]:
    return [(b.get("title", ""), b.get("payload", "")) for b in message.get("buttons") or []]


@contextmanager
def no_interpolation_errors() -> Iterator[None]:
    """Rasa's interpolator logs the whole response when it cannot fill a placeholder: it must not."""
    with capture_logs() as logs:
        yield
    assert [(e.get("response"), e.get("placeholder_key")) for e in logs
            if e.get("event", "").startswith("interpolator")] == []


def response_buttons(domain: Domain) -> dict[str, list[tuple[str, str]]]:
    """Each response variation's buttons as Rasa's generator renders them for a new conversation."""
    slots = _fresh_tracker(domain).current_slot_values()
    found: dict[str, list[tuple[str, str]]] = {}
    for name, variations in domain.responses.items():
        for number, variation in enumerate(variations):
            if not variation.get("buttons"):
                continue
            plain = {k: v for k, v in variation.items() if k not in ("condition", "channel")}
            # values an action passes with the response (utter_message(response=..., employer=...))
            passed = {key: "…" for key in PLACEHOLDER.findall(json.dumps(plain, ensure_ascii=False))
                      if key not in slots}
            with no_interpolation_errors():
                rendered = TemplatedNaturalLanguageGenerator({name: [plain]}).generate_from_slots(
                    name, slots, CHANNEL, **passed)
            found[f"{name}[{number}]"] = _buttons(rendered)
    return found


def action_calculate_buttons(domain: Domain, intent: str) -> list[tuple[str, str]]:
    """The buttons of ``action_calculate``'s answer to ``intent`` (no numbers), as Rasa delivers them."""
    tracker = _fresh_tracker(domain)
    tracker.update(UserUttered("…", intent={"name": intent, "confidence": 1.0}, input_channel=CHANNEL))
    # the action server's view: the tracker and domain Rasa sends with each call
    sdk_tracker = Tracker.from_dict(tracker.current_state(EventVerbosity.ALL))
    dispatcher = CollectingDispatcher()
    with no_interpolation_errors():
        asyncio.run(ActionCalculate().run(dispatcher, sdk_tracker, domain.as_dict()))
        assert dispatcher.messages, f"action_calculate said nothing to {intent}"
        nlg = TemplatedNaturalLanguageGenerator(domain.responses)
        uttered = asyncio.run(RemoteAction._utter_responses(dispatcher.messages, CollectingOutputChannel(), nlg,
                                                            tracker))
    return [button for event in uttered if isinstance(event, BotUttered) for button in _buttons(event.data)]


def parsed(payload: str, domain: Domain) -> tuple[Message, list[str]]:
    """Rasa's reading of ``payload`` and the warnings it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        message = YAMLStoryReader.unpack_regex_message(Message({"text": payload}), domain, "RegexMessageHandler")
    return message, [str(w.message) for w in caught]


def assert_rasa_reads(payload: str, domain: Domain) -> None:
    """An ``/intent{...}`` payload names a known intent and entities; other payloads are plain words."""
    if not payload.startswith("/"):  # sent as if typed ("顺产"): the NLU reads it like any message
        assert payload.strip() and "{" not in payload and "}" not in payload, payload
        return
    message, problems = parsed(payload, domain)
    assert not problems, f"{payload!r}: {problems}"
    assert (message.get("intent") or {}).get("name") in domain.intents, payload
    entities = message.get("entities") or []
    if "{" in payload:
        assert entities, f"{payload!r}: no entities read"
    for entity in entities:
        assert entity["entity"] in domain.entities, payload
        if entity["entity"] == Slot.KIND:
            assert entity["value"] in {k.value for k in Kind}, payload


def test_the_parser_check_catches_a_payload_rasa_cannot_read(domain: Domain) -> None:
    with pytest.raises(AssertionError):
        assert_rasa_reads('/calculate{{"calc_kind": "overtime_pay"}}', domain)
    with pytest.raises(AssertionError):
        assert_rasa_reads("/no_such_intent", domain)
    with pytest.raises(AssertionError):
        assert_rasa_reads('/calculate{"calc_kind": "overtime"}', domain)
    with pytest.raises(AssertionError):
        with no_interpolation_errors():
            TemplatedNaturalLanguageGenerator({"utter_x": [{"text": "…", "buttons": [
                {"title": "5分", "payload": '/rate{"rating": "5"}'}]}]}).generate_from_slots("utter_x", {"a": 1}, CHANNEL)
    assert_rasa_reads('/calculate{"calc_kind": "overtime_pay"}', domain)


def test_every_response_button_reaches_rasa_as_its_intent(domain: Domain) -> None:
    buttons = response_buttons(domain)
    assert {f"utter_calc_offer_{k.value}[0]" for k in Kind} | {"utter_calc_which[0]"} <= set(buttons)
    for name, pairs in buttons.items():
        for title, payload in pairs:
            assert title and payload, name
            assert_rasa_reads(payload, domain)


@pytest.mark.parametrize("kind", list(Kind), ids=lambda k: k.value)
def test_the_calculate_button_action_calculate_offers_names_its_calculation(domain: Domain, kind: Kind) -> None:
    buttons = action_calculate_buttons(domain, kind.topic)
    titles = [title for title, _ in buttons]
    # after the overview's sub-answers (a new conversation: no sub-question asked yet)
    assert titles == [s.title for s in all_subs().get(kind.topic, [])][:MAX_SUB_BUTTONS] + ["帮我算一算"]
    for _, payload in buttons:
        assert_rasa_reads(payload, domain)
    payload = buttons[-1][1]
    message, _ = parsed(payload, domain)
    assert message.get("intent")["name"] == CALCULATE_INTENT
    assert [(e["entity"], e["value"]) for e in message.get("entities")] == [(Slot.KIND, kind.value)]


def test_every_calculation_action_calculate_lists_reaches_rasa(domain: Domain) -> None:
    buttons = action_calculate_buttons(domain, CALCULATE_INTENT)
    kinds = []
    for _, payload in buttons:
        assert_rasa_reads(payload, domain)
        kinds += [e["value"] for e in parsed(payload, domain)[0].get("entities")]
    assert sorted(kinds) == sorted(k.value for k in Kind)


def test_every_wechat_menu_item_reaches_rasa_as_its_intent(domain: Domain) -> None:
    payloads = click_payloads()
    assert payloads
    for payload in payloads.values():
        assert_rasa_reads(payload, domain)


def action_clarify_messages(domain: Domain, ranking: list[tuple[str, float]], text: str = "这种情况怎么弄",
                            entities: list[dict] | None = None) -> list[dict]:
    """What ``action_clarify`` says to an unsure parse of ``text`` with ``ranking``, as Rasa delivers it."""
    tracker = _fresh_tracker(domain)
    tracker.update(UserUttered(text, intent={"name": "nlu_fallback", "confidence": 0.3}, entities=entities or [],
                               input_channel=CHANNEL,
                               parse_data={"intent_ranking": [{"name": n, "confidence": c} for n, c in ranking]}))
    sdk_tracker = Tracker.from_dict(tracker.current_state(EventVerbosity.ALL))
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionClarify().run(dispatcher, sdk_tracker, domain.as_dict()))
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    uttered = asyncio.run(RemoteAction._utter_responses(dispatcher.messages, CollectingOutputChannel(), nlg, tracker))
    return [event.data | {"text": event.text} for event in uttered if isinstance(event, BotUttered)]


def test_an_unsure_question_is_asked_back_with_the_top_topics_and_two_ways_out(domain: Domain) -> None:
    ranking = [("nlu_fallback", 0.3), ("chitchat", 0.22), ("work_injury", 0.18), ("greet", 0.1),
               ("wage_arrears", 0.12), ("female_protection", 0.1), ("overtime_pay", 0.05)]
    [message] = action_clarify_messages(domain, ranking)
    assert message["text"].startswith("你想问的是哪一个？")
    assert _buttons(message) == [("工伤认定与待遇", "/work_injury"), ("拖欠工资、克扣工资", "/wage_arrears"),
                                 ("女职工特殊保护", "/female_protection"),
                                 ("都不是，转人工", "/request_human"), ("都不是", "/out_of_scope")]
    assert message["custom"] == {"clarify": ["work_injury", "wage_arrears", "female_protection"]}
    for _, payload in _buttons(message):
        assert_rasa_reads(payload, domain)


def test_an_ask_back_button_asks_for_the_sub_answer_guessed_for_its_topic(domain: Domain) -> None:
    """Pressing 工伤 after "没买工伤保险…" answers who pays without insurance, not the topic's overview."""
    ranking = [("nlu_fallback", 0.3), ("work_injury", 0.25), ("wage_arrears", 0.2), ("social_insurance", 0.1)]
    guesses = [{"entity": "sub_guess", "value": "work_injury/uninsured", "start": 0, "end": 5},
               {"entity": "sub_guess", "value": "social_insurance/underpaid", "start": 0, "end": 5}]
    [message] = action_clarify_messages(domain, ranking, entities=guesses)
    assert [payload for _, payload in _buttons(message)][:3] == [
        '/work_injury{"sub": "uninsured"}', "/wage_arrears", '/social_insurance{"sub": "underpaid"}']
    assert message["custom"] == {"clarify": ["work_injury", "wage_arrears", "social_insurance"]}
    for _, payload in _buttons(message):
        assert_rasa_reads(payload, domain)


def test_with_no_topic_to_offer_the_worker_is_asked_to_rephrase(domain: Domain) -> None:
    [message] = action_clarify_messages(domain, [("nlu_fallback", 0.3), ("greet", 0.2), ("chitchat", 0.1)])
    assert message["text"] == domain.responses["utter_ask_rephrase"][0]["text"] and not message.get("buttons")


@pytest.mark.parametrize("text", ["😭😭😭", "？？？", "👍", "……", "[]"])
def test_emoji_or_punctuation_alone_is_asked_for_in_words_not_guessed(domain: Domain, text: str) -> None:
    ranking = [("nlu_fallback", 0.2), ("out_of_scope", 0.15), ("working_hours", 0.1), ("wage_arrears", 0.05)]
    [message] = action_clarify_messages(domain, ranking, text=text)
    assert message["text"] == domain.responses["utter_no_words"][0]["text"] and not message.get("buttons")
    assert "文字" in message["text"] and "转人工" in message["text"]


def test_a_message_with_a_word_among_emoji_is_still_asked_back(domain: Domain) -> None:
    ranking = [("nlu_fallback", 0.2), ("wage_arrears", 0.18), ("working_hours", 0.1)]
    [message] = action_clarify_messages(domain, ranking, text="工资😭😭")
    assert message["text"].startswith("你想问的是哪一个？")


@pytest.mark.parametrize("confidence, asked_back", [(0.95, False), (0.5, False), (0.42, True)])
def test_out_of_scope_is_redirected_when_sure_and_asked_back_when_not(domain: Domain, confidence, asked_back) -> None:
    tracker = _fresh_tracker(domain)
    ranking = [{"name": "out_of_scope", "confidence": confidence}, {"name": "resignation", "confidence": 0.3}]
    tracker.update(UserUttered("帮我看看这个", intent={"name": "out_of_scope", "confidence": confidence}, input_channel=CHANNEL,
                               parse_data={"intent_ranking": ranking}))
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionOutOfScope().run(dispatcher, Tracker.from_dict(tracker.current_state(EventVerbosity.ALL)),
                                       domain.as_dict()))
    [message] = dispatcher.messages
    if asked_back:
        assert message["custom"] == {"clarify": ["resignation"]}
    else:
        assert message["response"] == "utter_out_of_scope"


def test_a_second_topic_named_is_offered_as_a_button_without_changing_the_conversation_topic(domain: Domain) -> None:
    [message] = action_also_mentioned_messages(domain, "labour_contract", ["social_insurance"])
    assert message["text"].startswith("你还提到了：社会保险")
    assert _buttons(message) == [("社会保险", "/social_insurance")]
    assert not message.get("custom")          # no topic tag: the follow-ups stay on the answered topic
    assert_rasa_reads("/social_insurance", domain)


def action_also_mentioned_messages(domain: Domain, intent: str, others: list[str]) -> list[dict]:
    """What ``action_also_mentioned`` says after the answer of ``intent``, the message naming ``others``."""
    tracker = _fresh_tracker(domain)
    tracker.update(UserUttered("…", intent={"name": intent, "confidence": 0.6}, input_channel=CHANNEL,
                               entities=[{"entity": "also_topic", "value": o, "start": 0, "end": 0} for o in others]))
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionAlsoMentioned().run(dispatcher, Tracker.from_dict(tracker.current_state(EventVerbosity.ALL)),
                                          domain.as_dict()))
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    uttered = asyncio.run(RemoteAction._utter_responses(dispatcher.messages, CollectingOutputChannel(), nlg, tracker))
    return [event.data | {"text": event.text} for event in uttered if isinstance(event, BotUttered)]


def test_a_story_with_several_problems_lists_the_others_after_the_answer_and_a_person(domain: Domain) -> None:
    [message] = action_also_mentioned_messages(domain, "labour_contract",
                                               ["overtime_pay", "dismissal_compensation", "wage_arrears"])
    assert message["text"].startswith("你的情况里还涉及：加班费 · 解除劳动合同与经济补偿 · 拖欠工资、克扣工资。")
    assert _buttons(message) == [("加班费", "/overtime_pay"), ("解除劳动合同与经济补偿", "/dismissal_compensation"),
                                 ("拖欠工资、克扣工资", "/wage_arrears"), ("转人工", "/request_human")]
    assert not message.get("custom")          # the conversation's topic stays the one answered
    for _, payload in _buttons(message):
        assert_rasa_reads(payload, domain)


def test_a_story_the_model_cannot_place_gets_every_problem_it_raises_to_pick_from(domain: Domain) -> None:
    ranking = [("nlu_fallback", 0.2), ("labour_contract", 0.32), ("dismissal_compensation", 0.25),
               ("wage_arrears", 0.22), ("social_insurance", 0.12), ("resignation", 0.02)]
    story = "在厂里干了两年，一直没签劳动合同，也没交社保，上个月老板把我开除了，还欠我两个月工资"
    [message] = action_clarify_messages(domain, ranking, story)
    assert message["text"].startswith("你说的情况涉及好几个问题：劳动合同签订 · 社会保险 · 解除劳动合同与经济补偿 · 拖欠工资")
    assert _buttons(message) == [("劳动合同签订", "/labour_contract"), ("社会保险", "/social_insurance"),
                                 ("解除劳动合同与经济补偿", "/dismissal_compensation"),
                                 ("拖欠工资、克扣工资", "/wage_arrears"), ("转人工", "/request_human")]
    # an ask-back for the analytics and the teaching inbox, in the order shown
    assert message["custom"] == {"clarify": ["labour_contract", "social_insurance", "dismissal_compensation",
                                             "wage_arrears"]}
    # one problem named, or two: the usual ask-back between the model's best topics
    [usual] = action_clarify_messages(domain, ranking, "没签劳动合同，上个月被开除了")
    assert usual["text"].startswith("你想问的是哪一个？")
