"""Start the Rasa server with one addition: a clear reply when the action server is down.

Rasa 3.6 logs a failed custom-action call ("Bot will continue, but the actions events are
lost") and the worker gets no answer at all. Here a failed call sends the domain's
``utter_action_failed`` instead (it says plainly that nothing was done, e.g. that a
complaint was not saved, and how to reach the union). Rejections raised by a form's
validation are left to Rasa as before.

Usage: ``python -m bot.rasa_server run …`` takes the arguments of ``rasa``.
"""
from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from rasa.core.actions.action import ActionExecutionRejection, RemoteAction, create_bot_utterance
from rasa.shared.exceptions import RasaException

logger = logging.getLogger(__name__)

FAILURE_RESPONSE = "utter_action_failed"
_original_run = RemoteAction.run
# Turns already apologised for: a form calls several remote actions in one turn
# (validation, then the question), and the worker should read the apology once.
_apologised: OrderedDict[tuple[str, str | None], None] = OrderedDict()
_REMEMBERED_TURNS = 1000


async def _run_or_apologise(self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any,
                            domain: Any) -> list:
    try:
        return await _original_run(self, output_channel, nlg, tracker, domain)
    except ActionExecutionRejection:
        raise
    except RasaException:
        logger.error("custom action %s failed: action server unavailable", self.name())
        turn = (tracker.sender_id, getattr(tracker.latest_message, "message_id", None))
        if turn[1] is not None and turn in _apologised:
            return []
        _apologised[turn] = None
        if len(_apologised) > _REMEMBERED_TURNS:
            _apologised.popitem(last=False)
        response = await nlg.generate(FAILURE_RESPONSE, tracker, output_channel.name())
        if response is None:
            raise
        return [create_bot_utterance(response)]


def install() -> None:
    """Idempotent: patch ``RemoteAction.run`` (used for custom actions and form validation)."""
    RemoteAction.run = _run_or_apologise  # type: ignore[method-assign]


def main() -> None:
    install()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
