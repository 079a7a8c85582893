"""The worker's "delete my data": our tables here, the conversation by the tracker store."""
from __future__ import annotations

import asyncio
import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import services
from bot.storage.errors import StorageUnavailable
from bot.storage.privacy import FORGET_SLOT

logger = logging.getLogger(__name__)


class ActionForgetMe(Action):
    def name(self) -> str:
        return "action_forget_me"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        try:
            erased = await asyncio.to_thread(services.privacy_service().forget, tracker.sender_id)
        except StorageUnavailable:
            dispatcher.utter_message(response="utter_forget_me_failed")
            return []
        logger.info("worker data erased as %s", erased.erased_id)
        dispatcher.utter_message(response="utter_forget_me_done")
        return [SlotSet(FORGET_SLOT, True)]
