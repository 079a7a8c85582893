"""The Rasa HTTP API as the staff side uses it (authenticated with the API token).

Staff replies are appended to the worker's conversation as bot events with
``execute_side_effects``, so Rasa sends them through the channel the worker last used.
"""
from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import requests

logger = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """The Rasa server did not take the request (down, timeout, refused token)."""


class RasaRequestFailed(RasaUnavailable):
    """Rasa took the request but it failed; ``detail`` is Rasa's reason (e.g. WeChat refused)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.detail = detail


class RasaClient:
    def __init__(self, base_url: str, token: str, timeout: float = 10.0,
                 session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.http = session or requests.Session()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        params = {"token": self.token, **kwargs.pop("params", {})}
        try:
            response = self.http.request(method, f"{self.base_url}{path}", params=params,
                                         timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            logger.error("rasa api %s %s failed: %s", method, path.split("?")[0], type(exc).__name__)
            raise RasaUnavailable(type(exc).__name__) from exc
        if response.status_code >= 400:
            logger.error("rasa api %s answered %s", method, response.status_code)
            raise RasaRequestFailed(response.status_code, _error_detail(response))
        return response.json() if response.content else None

    def status(self) -> dict[str, Any]:
        """The loaded model: ``model_file`` (its file name) and ``model_id``."""
        return self._call("GET", "/status")

    def load_model(self, model_file: str) -> None:
        """Replace the server's model (``PUT /model``); returns once the new one answers.

        Rasa loads the model inside the request (allow ``timeout`` for it) and keeps the
        old agent on failure; the input channels read the agent per message.
        """
        self._call("PUT", "/model", json={"model_file": model_file})

    def parse(self, text: str) -> dict[str, Any]:
        """What the loaded model makes of ``text`` (``POST /model/parse``): intent, ranking,
        response selector; no conversation is touched."""
        return self._call("POST", "/model/parse", json={"text": text})

    @staticmethod
    def _conversation(sender_id: str) -> str:
        # ":" stays as it is: integration ids are "rest:<sender>", and Rasa's router does not
        # decode "%3A" back into the conversation id.
        return f"/conversations/{quote(sender_id, safe=':')}"

    def tracker(self, sender_id: str) -> dict[str, Any]:
        return self._call("GET", f"{self._conversation(sender_id)}/tracker",
                          params={"include_events": "ALL"})

    def send_bot_message(self, sender_id: str, text: str, metadata: dict | None = None) -> None:
        """Deliver ``text`` to the worker through their latest channel, logged in the tracker."""
        event = {"event": "bot", "text": text, "metadata": metadata or {}}
        self._call("POST", f"{self._conversation(sender_id)}/tracker/events",
                   params={"execute_side_effects": "true", "output_channel": "latest"}, json=[event])

    def pause(self, sender_id: str) -> None:
        self._call("POST", f"{self._conversation(sender_id)}/tracker/events", json=[{"event": "pause"}])

    def resume(self, sender_id: str) -> None:
        self._call("POST", f"{self._conversation(sender_id)}/tracker/events", json=[{"event": "resume"}])

    def execute(self, sender_id: str, action: str) -> None:
        """Run ``action`` now and send what it says to the worker's latest channel.

        Rasa does not predict after an executed action, so the bot is then marked as
        listening: the worker's next message is read like any other turn.
        """
        self._call("POST", f"{self._conversation(sender_id)}/execute",
                   params={"output_channel": "latest"}, json={"name": action})
        self._call("POST", f"{self._conversation(sender_id)}/tracker/events",
                   json=[{"event": "action", "name": "action_listen"}])


def _error_detail(response: requests.Response) -> str:
    """Rasa's own reason for a failed call, without its generic prefix."""
    try:
        body = response.json()
    except ValueError:
        body = None
    message = str(body.get("message") or "") if isinstance(body, dict) else ""
    return message.split("Error: ", 1)[-1][:300] or response.reason or "error"
