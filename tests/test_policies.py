"""The follow-up policy of bot/policies.py predicts exactly what Rasa's own would, only faster.

Both are trained here on a small domain shaped like the project's (slots that do not influence the
conversation, one that does, follow-up stories) and compared on random conversations.
"""
from __future__ import annotations

import random

import pytest
from rasa.core.policies.memoization import AugmentedMemoizationPolicy
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.generator import TrainingDataGenerator
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.core.training_data.structures import StoryGraph

from bot.policies import FollowUpMemoizationPolicy, state_tracker

DOMAIN = """
version: "3.1"
intents: [greet, work_injury, wage_arrears, ask_amount, ask_next_steps, thank]
slots:
  region: {type: text, influence_conversation: false, mappings: [{type: custom}]}
  sub: {type: text, influence_conversation: false, mappings: [{type: custom}]}
  calc_days: {type: any, mappings: [{type: custom}]}
  calc_kind: {type: text, influence_conversation: false, mappings: [{type: custom}]}
  waiting: {type: bool, influence_conversation: true, mappings: [{type: custom}]}
responses:
  utter_greet: [{text: "你好"}]
  utter_wage_arrears_answer: [{text: "工资"}]
  utter_thank: [{text: "不客气"}]
  utter_waiting: [{text: "请稍候"}]
actions: [action_calculate, action_followup]
"""

STORIES = """
version: "3.1"
stories:
  - story: work injury, the amounts, the next steps
    steps:
      - intent: work_injury
      - action: action_calculate
      - intent: ask_amount
      - action: action_followup
      - intent: ask_next_steps
      - action: action_followup
  - story: wage arrears, the next steps
    steps:
      - intent: wage_arrears
      - action: utter_wage_arrears_answer
      - intent: ask_next_steps
      - action: action_followup
  - story: a worker waiting for a person is told to wait
    steps:
      - slot_was_set:
          - waiting: true
      - intent: ask_next_steps
      - action: utter_waiting
rules:
  - rule: greet
    steps:
      - intent: greet
      - action: utter_greet
  - rule: thanks
    steps:
      - intent: thank
      - action: utter_thank
"""

ANSWERS = {"greet": "utter_greet", "work_injury": "action_calculate", "wage_arrears": "utter_wage_arrears_answer",
           "ask_amount": "action_followup", "ask_next_steps": "action_followup", "thank": "utter_thank"}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):  # type: ignore[no-untyped-def]
    domain = Domain.from_yaml(DOMAIN)
    graph = StoryGraph(YAMLStoryReader(domain).read_from_string(STORIES))
    trackers = TrainingDataGenerator(graph, domain, augmentation_factor=0).generate()
    storage = LocalModelStorage(tmp_path_factory.mktemp("policies"))
    context = ExecutionContext(GraphSchema({}), "test")
    policies = {}
    for cls in (AugmentedMemoizationPolicy, FollowUpMemoizationPolicy):
        policy = cls.create({**cls.get_default_config(), "max_history": 4}, storage, Resource(cls.__name__), context)
        policy.train(trackers, domain)
        policies[cls] = policy
    return domain, policies


def conversation(domain: Domain, rng: random.Random, turns: int) -> list[DialogueStateTracker]:
    """A random conversation; the tracker before each of the bot's actions."""
    tracker = DialogueStateTracker.from_events("worker", [ActionExecuted("action_listen")], domain.slots)
    points = []
    for _ in range(turns):
        intent = rng.choice(list(ANSWERS))
        tracker.update(UserUttered(intent, {"name": intent, "confidence": 1.0}))
        for name in rng.sample(["region", "sub", "calc_days", "calc_kind", "waiting"], rng.randint(0, 3)):
            tracker.update(SlotSet(name, rng.choice([True, None]) if name == "waiting" else f"v{rng.randint(0, 3)}"))
        points.append(tracker.copy())
        tracker.update(ActionExecuted(ANSWERS[intent]))
        tracker.update(BotUttered("…"))
        points.append(tracker.copy())
        tracker.update(ActionExecuted("action_listen"))
    return points


def prediction(policy, tracker: DialogueStateTracker, domain: Domain) -> dict:  # type: ignore[no-untyped-def]
    result = policy.predict_action_probabilities(tracker, domain, rule_only_data={"slots": [], "loops": []})
    return {k: v for k, v in vars(result).items() if k != "policy_name"}


def test_a_follow_up_after_a_long_conversation_is_still_recognised(trained):  # type: ignore[no-untyped-def]
    domain, policies = trained
    tracker = conversation(domain, random.Random(7), 12)[-1]
    for event in (ActionExecuted("action_listen"), UserUttered("工伤", {"name": "work_injury", "confidence": 1.0}),
                  SlotSet("region", "深圳"), ActionExecuted("action_calculate"), BotUttered("…"),
                  ActionExecuted("action_listen"), UserUttered("能赔多少", {"name": "ask_amount", "confidence": 1.0})):
        tracker.update(event)
    probabilities = policies[FollowUpMemoizationPolicy].predict_action_probabilities(tracker, domain).probabilities
    assert domain.action_names_or_texts[probabilities.index(max(probabilities))] == "action_followup"
    assert max(probabilities) > 0


def test_the_same_predictions_as_rasas_own_policy(trained):  # type: ignore[no-untyped-def]
    domain, policies = trained
    rng = random.Random(0)
    points = [t for _ in range(40) for t in conversation(domain, rng, rng.randint(1, 8))]
    predicted = 0
    for tracker in points:
        expected = prediction(policies[AugmentedMemoizationPolicy], tracker, domain)
        assert prediction(policies[FollowUpMemoizationPolicy], tracker, domain) == expected
        predicted += max(expected["probabilities"]) > 0
    assert predicted > len(points) // 4  # the comparison covers real predictions, not only "don't know"


def test_the_states_copy_keeps_the_slots_that_steer_and_follows_the_conversation(trained):  # type: ignore[no-untyped-def]
    domain, _ = trained
    tracker = DialogueStateTracker.from_events("worker", [SlotSet("waiting", True), SlotSet("region", "深圳")],
                                               domain.slots)
    copy = state_tracker(tracker)
    assert set(copy.slots) == {"waiting"} and copy.get_slot("waiting") is True
    tracker.update(SlotSet("waiting", None))
    assert state_tracker(tracker).get_slot("waiting") is None
    assert copy.past_states(domain) != tracker.past_states(domain)
    assert state_tracker(tracker).past_states(domain) == tracker.past_states(domain)
