"""Start the Rasa server with two additions: a clear reply when the action server is down,
and a new model (``PUT /model``, "publish and retrain") loaded without stalling conversations.

Rasa 3.6 logs a failed custom-action call ("Bot will continue, but the actions events are
lost") and the worker gets no answer at all. Here a failed call sends the domain's
``utter_action_failed`` instead (it says plainly that nothing was done, e.g. that a
complaint was not saved, and how to reach the union). Rejections raised by a form's
validation are left to Rasa as before.

Rasa's ``PUT /model`` loads the model synchronously inside the request, which blocks the
event loop for the whole load (~10 s measured by bench/retrain.py): every worker waits. Here
the model is loaded in a worker thread; the old agent answers until the new one replaces it.

Rasa's ``FailSafeTrackerStore`` answers a database outage by starting an empty conversation
in memory; here :class:`bot.storage.tracker_store.StrictTrackerStore` replaces it, so the
turn fails, the channel says so and the stored conversation is intact afterwards.

Event classes are looked up by name in a table built once (Rasa walks every subclass of
``Event`` for each event it reads). Two costs of Rasa's custom-action call are cut: the
answer's JSON schema is compiled once (Rasa re-checks the schema on every call), and a call
whose request never reached an action server (refused, or a pooled connection already
closed) is tried once more.

Usage: ``python -m bot.rasa_server run …`` takes the arguments of ``rasa``; the API token comes
from the environment (``NIANGJIA_RASA_AUTH_TOKEN``), so it never shows in ``ps``.
"""
from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections import OrderedDict
from typing import Any

import aiohttp
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction, create_bot_utterance
from rasa.shared.core.events import SlotSet
from rasa.shared.exceptions import RasaException

logger = logging.getLogger(__name__)

FAILURE_RESPONSE = "utter_action_failed"

_original_run = RemoteAction.run
# Turns already apologised for: a form calls several remote actions in one turn
# (validation, then the question), and the worker should read the apology once.
_apologised: OrderedDict[tuple[str, str | None], None] = OrderedDict()
_REMEMBERED_TURNS = 1000


async def _run_once_more_if_unsent(self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any,
                                   domain: Any) -> list:
    """Rasa's call, tried a second time when the request never reached an action server.

    Under load a pooled keep-alive connection may already be closed by the action server
    ("Can not write request body"), or a dead server refuses it: nothing was run, so
    trying again is safe (and our actions that store something are idempotent anyway:
    complaints by their dedupe key, one open handoff per worker).
    """
    try:
        return await _original_run(self, output_channel, nlg, tracker, domain)
    except RasaException as exc:
        if isinstance(exc, ActionExecutionRejection) or not isinstance(exc.__context__, aiohttp.ClientConnectionError):
            raise
        logger.warning("custom action %s: connection failed (%s), trying once more",
                       self.name(), type(exc.__context__).__name__)
        await asyncio.sleep(0.05)
        return await _original_run(self, output_channel, nlg, tracker, domain)


async def _run_or_apologise(self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any,
                            domain: Any) -> list:
    try:
        return await _run_once_more_if_unsent(self, output_channel, nlg, tracker, domain)
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
        return [create_bot_utterance(response), *_unvalidated(self.name(), tracker)]


def _unvalidated(action: str, tracker: Any) -> list:
    """A form's validation could not run: drop the answer Rasa took for the requested slot, so the
    form asks the same question again instead of moving on with an unchecked value."""
    requested = tracker.get_slot("requested_slot")
    if not action.startswith("validate_") or not requested:
        return []
    return [SlotSet(requested, None)]


class _ResponseValidator:
    """Rasa's JSON schema of an action server's answer, checked in the same way but cheaper.

    Each event of the answer must match exactly one of the schema's ~25 event kinds (``oneOf``),
    and jsonschema tries all of them for every event. Every kind fixes the ``event`` name
    (``const``), so an event whose name is one of them matches ``oneOf`` exactly when it matches
    that kind: it is checked against that kind alone. Anything else (no name, an unknown name,
    not an object) goes through the whole schema, which reports it as Rasa does.
    """

    def __init__(self) -> None:
        from jsonschema.validators import validator_for

        schema = RemoteAction.action_response_format_spec()
        make = validator_for(schema)
        events = schema["properties"]["events"]
        self.event = make(events["items"])
        base = {key: value for key, value in events["items"].items() if key != "oneOf"}
        kinds = [branch.get("properties", {}).get("event", {}).get("const")
                 for branch in events["items"]["oneOf"]]
        self.kinds: dict[str, Any] = {}
        if None not in kinds and len(set(kinds)) == len(kinds):
            self.kinds = {kind: make({"allOf": [base, branch]})
                          for kind, branch in zip(kinds, events["items"]["oneOf"])}
        self.top = make(dict(schema, properties=dict(schema["properties"], events={"type": "array"})))

    def validate(self, result: Any) -> None:
        self.top.validate(result)
        for event in result.get("events") or ():
            kind = event.get("event") if isinstance(event, dict) else None
            validator = self.kinds.get(kind) if isinstance(kind, str) else None
            (validator or self.event).validate(event)


_response_validator: _ResponseValidator | None = None


def _validate_action_result(self: RemoteAction, result: dict) -> bool:
    """Rasa's check of an action server's answer, with the JSON schema compiled once.

    Rasa 3.6 calls ``jsonschema.validate`` for every custom action, which checks the schema
    itself each time (RasaHQ/rasa#11717): measured 20 ms a call here, 57 % of the Rasa
    server's time under load, against 0.3 ms with the validator built once. Each event is then
    checked against its own kind only (:class:`_ResponseValidator`), not all of them.
    """
    global _response_validator
    if _response_validator is None:
        _response_validator = _ResponseValidator()
    _response_validator.validate(result)
    return True


async def _load_agent_off_loop(model_path: str | None = None, model_server: Any = None,
                               remote_storage: str | None = None, endpoints: Any = None) -> Any:
    """``rasa.server._load_agent`` for a model file on disk, with the load in a thread."""
    import rasa.core.agent
    import rasa.server
    from http import HTTPStatus

    if model_server is not None or remote_storage is not None or not model_path:
        return await _original_load_agent(model_path, model_server, remote_storage, endpoints)
    agent = await rasa.core.agent.load_agent(endpoints=endpoints)  # stores and endpoints, no model yet
    try:
        await asyncio.to_thread(agent.load_model, model_path)
    except Exception as exc:  # noqa: BLE001 - reported to the caller like Rasa's own loader does
        logger.exception("loading model %s failed", model_path)
        raise rasa.server.ErrorResponse(HTTPStatus.INTERNAL_SERVER_ERROR, "LoadingError",
                                        f"An unexpected error occurred. Error: {exc}") from exc
    if not agent.is_ready():
        raise rasa.server.ErrorResponse(HTTPStatus.BAD_REQUEST, "BadRequest",
                                        f"Agent with name '{model_path}' could not be loaded.")
    logger.info("model loaded: %s", model_path)
    return agent


_original_load_agent: Any = None


def _event_classes_by_type() -> Any:
    """``Event.resolve_by_type`` with the table of event classes built once.

    Rasa walks every subclass of ``Event`` for each event it reads back (every stored event
    of a conversation on each turn, every event an action returns): 16 % of the tracker
    store's read time under load. The first class found for a name wins, as in Rasa; a name
    not in the table (a class defined later) goes to Rasa's own lookup.
    """
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    original = Event.resolve_by_type
    table: dict[str, type] = {}

    def resolve_by_type(type_name: str, default: type | None = None) -> type | None:
        if not table:
            for cls in all_subclasses(Event):
                table.setdefault(cls.type_name, cls)
        found = table.get(type_name)
        return found if found is not None else original(type_name, default)

    resolve_by_type.original = original  # type: ignore[attr-defined]
    return staticmethod(resolve_by_type)


def install() -> None:
    """Idempotent: patch ``RemoteAction.run`` (custom actions, form validation), the model loader,
    the tracker store's wrapper and the lookup of event classes."""
    global _original_load_agent
    import rasa.core.agent
    import rasa.server
    from rasa.shared.core.events import Event

    from bot.storage.tracker_store import StrictTrackerStore

    rasa.core.agent.FailSafeTrackerStore = StrictTrackerStore  # type: ignore[misc]
    RemoteAction.run = _run_or_apologise  # type: ignore[method-assign]
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    if not hasattr(Event.resolve_by_type, "original"):
        Event.resolve_by_type = _event_classes_by_type()  # type: ignore[method-assign]
    if rasa.server._load_agent is not _load_agent_off_loop:
        _original_load_agent = rasa.server._load_agent
        rasa.server._load_agent = _load_agent_off_loop


def main() -> None:
    from bot import logmask

    logmask.install()
    install()
    from bot.config import RASA_TOKEN_VARIABLE

    token = os.environ.pop(RASA_TOKEN_VARIABLE, "")
    if token:
        # One "--opt=value" word: argparse would take a token starting with "-" for an option.
        sys.argv.append(f"--auth-token={token}")
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
