"""The follow-up policy: Rasa's own, made cheaper where the result cannot change.

``FollowUpMemoizationPolicy`` is Rasa's AugmentedMemoizationPolicy (the follow-ups of
data/stories/, recognised after any earlier conversation). To find a memorised turn after an
unknown beginning, that policy rebuilds the conversation several times per prediction, each time
from a copy of the tracker, and every copy copies every slot of the domain (35 here). No slot of
this domain influences the conversation, so no state the policy compares reads them: it works
here on a copy of the conversation that keeps only the slots that do (none today; all of them if
the domain changes). Same states, same predictions: tests/test_policies.py compares it with
Rasa's on random conversations, and on 183 prediction points of 12 recorded bench conversations
all 183 were identical, 4.7-5.8 ms a prediction before, 1.4-2.8 ms after (7 Dec; README, "Measured").
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa.core.policies.memoization import AugmentedMemoizationPolicy
from rasa.core.policies.policy import PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.constants import DEFAULT_SENDER_ID
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker


class _StateTracker(DialogueStateTracker):
    """A tracker holding only the slots that influence the conversation; setting any other slot
    (a SlotSet replayed from the real conversation) does nothing."""

    def init_copy(self) -> "_StateTracker":
        return _StateTracker(self.sender_id or DEFAULT_SENDER_ID, self.slots.values(), self._max_event_history,
                             is_rule_tracker=self.is_rule_tracker)

    def _set_slot(self, key: Text, value: Any) -> None:
        if key in self.slots:
            super()._set_slot(key, value)


def state_tracker(tracker: DialogueStateTracker) -> DialogueStateTracker:
    """``tracker``'s conversation without the slots no state reads (the same tracker when all
    slots influence the conversation)."""
    slots = [slot for slot in tracker.slots.values() if slot.influence_conversation]
    if len(slots) == len(tracker.slots):
        return tracker
    copy = _StateTracker(tracker.sender_id, slots, tracker._max_event_history, is_rule_tracker=tracker.is_rule_tracker)
    for event in tracker.events:
        copy.update(event)
    return copy


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class FollowUpMemoizationPolicy(AugmentedMemoizationPolicy):
    """AugmentedMemoizationPolicy predicting from the conversation's states alone (see module doc)."""

    def predict_action_probabilities(self, tracker: DialogueStateTracker, domain: Domain,
                                     rule_only_data: Optional[Dict[Text, Any]] = None,
                                     **kwargs: Any) -> PolicyPrediction:
        return super().predict_action_probabilities(state_tracker(tracker), domain, rule_only_data, **kwargs)
