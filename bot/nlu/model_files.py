"""A JSON document inside a Rasa model, for our components that compile data at training time."""
from __future__ import annotations

import json
from typing import Any

from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage


def save_json(model_storage: ModelStorage, resource: Resource, filename: str, data: Any) -> None:
    with model_storage.write_to(resource) as directory:
        (directory / filename).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def load_json(model_storage: ModelStorage, resource: Resource, filename: str) -> Any | None:
    """The document, or None when the model has none (trained before the component existed)."""
    try:
        with model_storage.read_from(resource) as directory:
            return json.loads((directory / filename).read_text(encoding="utf-8"))
    except (ValueError, FileNotFoundError):
        return None
