"""A worker waiting for a person hears that their messages arrive.

While a handoff is open the bot is paused (Rasa predicts nothing), so until staff claim the
conversation a worker who writes "有人吗？？腿很疼" would hear nothing at all. Every channel of ours
passes its turns through :func:`acknowledging`: before the turn, if the sender's handoff is still
unclaimed and they were not told within ``HANDOFF_ACK_MINUTES`` (once per handoff per interval,
whichever process asks first), the turn is followed by ``handoff_waiting``: received, a union
colleague answers here, their place in the queue, 12351 and 120 for emergencies. The message that
opens the handoff is not acknowledged (the bot has just said it hands over), nor are messages once
staff have claimed it. A failed lookup never holds the turn up: the worker just hears nothing extra.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from functools import lru_cache
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import UserMessage

from bot.channels.common import replies
from bot.storage.services import HandoffService, Waiting

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def acknowledging(on_new_message: OnNewMessage,
                  store: Callable[[], HandoffService] | None = None) -> OnNewMessage:
    """``on_new_message`` followed, for a worker waiting for a person, by the acknowledgement
    (handoffs in ``store``, default: the settings' database)."""

    async def handle(message: UserMessage) -> None:
        waiting = await _waiting((store or handoff_store)(), message.sender_id)
        await on_new_message(message)
        if waiting is not None:
            await message.output_channel.send_text_message(message.sender_id, waiting_text(waiting))

    return handle


def waiting_text(waiting: Waiting) -> str:
    return replies()["handoff_waiting"].format(place=waiting.place)


async def _waiting(handoffs: HandoffService, sender_id: str | None) -> Waiting | None:
    if not sender_id:
        return None
    try:
        return await asyncio.to_thread(handoffs.acknowledge_waiting, sender_id, _interval())
    except Exception as exc:  # noqa: BLE001 - the turn itself must go on
        logger.warning("waiting handoff not looked up: %s", type(exc).__name__)
        return None


@lru_cache(maxsize=1)
def _interval() -> timedelta:
    from bot.config import load_settings

    return timedelta(minutes=load_settings().handoff_ack_minutes)


@lru_cache(maxsize=1)
def handoff_store() -> HandoffService:
    """Handoffs on the database of the settings (``DATABASE_URL``), one engine per process."""
    from bot.config import load_settings
    from bot.storage.db import Database

    return HandoffService(Database(load_settings().database_url))
