"""RasaClient's model calls: GET /status and PUT /model, authenticated with the token."""
from __future__ import annotations

import json

import pytest

from bot.rasa_client import RasaClient, RasaRequestFailed


class FakeResponse:
    def __init__(self, status: int, body: object = None) -> None:
        self.status_code = status
        self.content = b"" if body is None else json.dumps(body).encode()
        self.reason = "reason"

    def json(self) -> object:
        return json.loads(self.content)


class FakeSession:
    def __init__(self, *responses: FakeResponse) -> None:
        self.responses, self.requests = list(responses), []

    def request(self, method: str, url: str, **kwargs: object) -> FakeResponse:
        self.requests.append((method, url, kwargs))
        return self.responses.pop(0)


def test_status_names_the_loaded_model():
    session = FakeSession(FakeResponse(200, {"model_file": "niangjia-a.tar.gz", "model_id": "x"}))
    client = RasaClient("http://rasa/", "secret", session=session)
    assert client.status()["model_file"] == "niangjia-a.tar.gz"
    method, url, kwargs = session.requests[0]
    assert (method, url, kwargs["params"]) == ("GET", "http://rasa/status", {"token": "secret"})


def test_load_model_puts_the_model_file():
    session = FakeSession(FakeResponse(204))
    client = RasaClient("http://rasa", "secret", timeout=300, session=session)
    client.load_model("/models/niangjia-b.tar.gz")
    method, url, kwargs = session.requests[0]
    assert (method, url) == ("PUT", "http://rasa/model")
    assert kwargs["json"] == {"model_file": "/models/niangjia-b.tar.gz"} and kwargs["timeout"] == 300


def test_a_model_rasa_cannot_load_is_an_error_with_its_reason():
    body = {"message": "An unexpected error occurred. Error: No valid model found"}
    client = RasaClient("http://rasa", "secret", session=FakeSession(FakeResponse(500, body)))
    with pytest.raises(RasaRequestFailed, match="No valid model found"):
        client.load_model("/models/broken.tar.gz")
