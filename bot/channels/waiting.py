"""A worker waiting for a person hears that their messages arrive.

While a handoff is open the bot is paused (Rasa predicts nothing), so until staff claim the
conversation a worker who writes "有人吗？？腿很疼" would hear nothing at all. Every channel of ours
passes its turns through :func:`acknowledging`: before the turn, if the sender's handoff is still
unclaimed and they were not told within ``HANDOFF_ACK_MINUTES`` (once per handoff per interval,
whichever process asks first), the turn is followed by ``handoff_waiting``: received, a union
colleague answers here, their place in the queue, 12351 and 120 for emergencies. The message that
opens the handoff is not acknowledged (the bot has just said it hands over), nor are messages once
staff have claimed it. A failed lookup never holds the turn up: the worker just hears nothing extra.

The lookup runs in a thread, before Rasa's ticket lock is taken. So that two messages a worker
sends in quick succession ("我被拖欠工资" then "转人工") still reach Rasa in the order they
arrived, the lookup and the turn of one sender run one after the other, first come first served
(an asyncio lock per sender, dropped when nobody holds or waits for it). Other senders never wait.
A message never waits longer than Rasa's own ticket lock would let it (``LOCK_LIFETIME``): after
that it goes on, and Rasa's lock decides, as it did before.
"""
from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import lru_cache
from typing import Any, AsyncIterator, Awaitable, Callable

from rasa.core.channels.channel import UserMessage
from rasa.core.lock_store import LOCK_LIFETIME

from bot.channels.common import replies
from bot.storage.services import HandoffService, Waiting

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def acknowledging(on_new_message: OnNewMessage,
                  store: Callable[[], HandoffService] | None = None) -> OnNewMessage:
    """``on_new_message`` followed, for a worker waiting for a person, by the acknowledgement
    (handoffs in ``store``, default: the settings' database)."""

    async def handle(message: UserMessage) -> None:
        async with _in_arrival_order(message.sender_id):
            waiting = await _waiting((store or handoff_store)(), message.sender_id)
            await on_new_message(message)
            if waiting is not None:
                await message.output_channel.send_text_message(message.sender_id, waiting_text(waiting))

    return handle


class _Turn:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()  # FIFO: waiters are woken in the order they came
        self.users = 0


_turns: dict[str, _Turn] = {}


@asynccontextmanager
async def _in_arrival_order(sender_id: str | None) -> AsyncIterator[None]:
    """One sender's turns one at a time, in the order their messages arrived."""
    if not sender_id:
        yield
        return
    turn = _turns.setdefault(sender_id, _Turn())
    turn.users += 1
    acquired = False
    try:
        try:
            acquired = await asyncio.wait_for(turn.lock.acquire(), LOCK_LIFETIME)
        except asyncio.TimeoutError:
            logger.warning("an earlier turn of the sender still runs after %s s: this one goes on", LOCK_LIFETIME)
        yield
    finally:
        if acquired:
            turn.lock.release()
        turn.users -= 1
        if turn.users == 0:
            _turns.pop(sender_id, None)


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
