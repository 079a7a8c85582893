"""A worker's quick messages reach the bot in the order they were sent, whatever the database does.

Every channel looks up the worker's waiting handoff (in a thread) before the turn. Two messages
sent a moment apart ("我被拖欠工资…" then "转人工") used to race through that lookup, and the
second could reach Rasa first: the handoff then opened without the story the worker had told.
"""
from __future__ import annotations

import asyncio
import threading
import time

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot.channels import waiting
from bot.channels.waiting import acknowledging


class SlowFirstLookup:
    """The handoff lookup of the first message is slow (a busy database); nobody is waiting."""

    def __init__(self, slow_seconds: float = 0.3) -> None:
        self.slow_seconds = slow_seconds
        self.calls = 0
        self._guard = threading.Lock()

    def acknowledge_waiting(self, sender_id, every):  # type: ignore[no-untyped-def]
        with self._guard:
            self.calls += 1
            first = self.calls == 1
        if first:
            time.sleep(self.slow_seconds)
        return None


def _message(text: str, sender: str) -> UserMessage:
    return UserMessage(text, CollectingOutputChannel(), sender, input_channel="socketio")


def test_two_quick_messages_of_one_worker_are_handled_in_the_order_sent():
    handled: list[str] = []

    async def turn(message: UserMessage) -> None:
        handled.append(message.text)

    lookup = SlowFirstLookup()  # one store: only the first message's lookup is slow
    handle = acknowledging(turn, lambda: lookup)

    async def main() -> None:
        first = asyncio.create_task(handle(_message("我被拖欠工资三个月了", "w-order")))
        await asyncio.sleep(0.01)  # the worker presses send again a moment later
        second = asyncio.create_task(handle(_message("转人工", "w-order")))
        await asyncio.gather(first, second)

    asyncio.run(main())
    assert handled == ["我被拖欠工资三个月了", "转人工"]
    assert "w-order" not in waiting._turns  # nothing is kept once the worker's turns are done


def test_one_workers_slow_turn_does_not_hold_up_another_worker():
    handled: list[str] = []

    async def main() -> None:
        release = asyncio.Event()

        async def turn(message: UserMessage) -> None:
            if message.sender_id == "w-slow":
                await release.wait()
            handled.append(message.sender_id)

        handle = acknowledging(turn, lambda: SlowFirstLookup(slow_seconds=0))
        slow = asyncio.create_task(handle(_message("我的工资呢", "w-slow")))
        await asyncio.sleep(0.01)
        await asyncio.wait_for(handle(_message("加班费怎么算", "w-other")), timeout=5)
        assert handled == ["w-other"]
        release.set()
        await slow

    asyncio.run(main())
    assert handled == ["w-other", "w-slow"]


def test_a_turn_that_fails_lets_the_workers_next_message_through():
    handled: list[str] = []

    async def turn(message: UserMessage) -> None:
        if message.text == "坏了":
            raise RuntimeError("rasa failed")
        handled.append(message.text)

    handle = acknowledging(turn, lambda: SlowFirstLookup(slow_seconds=0))

    async def main() -> None:
        try:
            await handle(_message("坏了", "w-fail"))
        except RuntimeError:
            pass
        await asyncio.wait_for(handle(_message("还在吗", "w-fail")), timeout=5)

    asyncio.run(main())
    assert handled == ["还在吗"]
