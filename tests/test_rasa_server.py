"""The Rasa server's patches keep Rasa's behaviour: every stored event reads back as the same class."""
from __future__ import annotations

import pytest
from rasa.shared.core.events import Event, SlotSet, UserUttered, deserialise_events
from rasa.shared.utils.common import all_subclasses

from bot import rasa_server


def test_event_classes_from_the_table_are_the_ones_rasa_finds():
    rasa_server.install()
    rasa_lookup = Event.resolve_by_type.original
    names = {cls.type_name for cls in all_subclasses(Event)}
    assert len(names) > 20
    for name in names:
        assert Event.resolve_by_type(name) is rasa_lookup(name), name


def test_stored_events_deserialise_and_unknown_ones_still_fail():
    rasa_server.install()
    events = deserialise_events([
        {"event": "user", "text": "老板拖欠工资", "parse_data": {"intent": {"name": "wage_arrears"}}},
        {"event": "slot", "name": "region", "value": "江苏"},
    ])
    assert [type(e) for e in events] == [UserUttered, SlotSet]
    assert Event.resolve_by_type("no_such_event", default=SlotSet) is SlotSet
    with pytest.raises(ValueError):
        Event.resolve_by_type("no_such_event")


# Action server answers: good ones, and ones a broken or hostile action server could send.
_ANSWERS = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "region", "value": "江苏", "timestamp": None}],
     "responses": [{"response": "utter_wage_arrears_answer"}]},
    {"events": [{"event": "followup", "name": "action_listen"}, {"event": "active_loop", "name": None},
                {"event": "bot", "text": "好的", "metadata": {}}, {"event": "reset_slots"}]},
    {"events": [{"event": "slot", "value": 1}]},  # a slot event without its name
    {"events": [{"event": "slot", "name": 3, "value": 1}]},  # a name that is not a string
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"name": "region"}]},  # no event name
    {"events": [{"event": 7}]},
    {"events": ["slot"]},
    {"events": [{"event": "bot", "timestamp": "yesterday"}]},
    {"events": [{"event": "user", "text": "你好", "parse_data": {"intent": {"name": "greet"}}}]},
    {"events": [{"event": "user", "text": 5}]},
    {"events": {"event": "slot"}},  # events not a list
    {"responses": ["utter_x"]},  # a response that is not an object
    {"events": [{"event": "entities", "entities": [{"entity": "region", "value": "江苏"}]}]},
    {"events": [{"event": "entities", "entities": [{"value": "江苏"}]}]},
]


@pytest.mark.parametrize("answer", _ANSWERS)
def test_action_answers_are_accepted_or_refused_as_rasas_own_schema_check_does(answer):
    from jsonschema import ValidationError, validate
    from rasa.core.actions.action import RemoteAction

    rasa_server.install()
    try:
        validate(answer, RemoteAction.action_response_format_spec())
        rasa_accepts = True
    except ValidationError:
        rasa_accepts = False
    action = RemoteAction("action_followup", None)
    if rasa_accepts:
        assert action._validate_action_result(answer) is True
    else:
        with pytest.raises(ValidationError):
            action._validate_action_result(answer)


def test_a_refused_action_answer_says_which_event_is_wrong():
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction

    rasa_server.install()
    with pytest.raises(ValidationError) as refused:
        RemoteAction("action_followup", None)._validate_action_result(
            {"events": [{"event": "slot", "name": "region", "value": "江苏"}, {"event": "slot", "value": 1}]})
    assert "name" in refused.value.message
