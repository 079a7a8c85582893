"""Session start: what a worker told us before is remembered, a half-done calculation is not.

Rasa's default ``action_session_start`` carries every slot into the new session
(``carry_over_slots_to_new_session``). A calculation's numbers from hours ago would then
be reused silently, so they are dropped; the worker's region and everything else stay.
"""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.calculate.dialogue import CARRIED
from bot.calculate.kinds import CALC_SLOTS

METADATA = "session_started_metadata"  # set by Rasa for the new session before this runs
NOT_CARRIED = {*CALC_SLOTS, CARRIED, "calc_retries", "requested_slot", METADATA}


class ActionSessionStart(Action):
    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        carried: dict[str, Any] = {name: value for name, value in tracker.current_slot_values().items()
                                   if value is not None and name not in NOT_CARRIED}
        metadata = tracker.get_slot(METADATA)
        events: list[EventType] = [SessionStarted()]
        events += [SlotSet(name, value) for name, value in carried.items()]
        if metadata is not None:
            events.append(SlotSet(METADATA, metadata))
        events.append(ActionExecuted("action_listen"))
        return events
