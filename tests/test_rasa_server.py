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
