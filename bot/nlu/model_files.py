"""A JSON document or pickled scikit-learn objects inside a Rasa model, for our components that
compile data or fit models at training time."""
from __future__ import annotations

import json
from typing import Any

import joblib

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


def save_joblib(model_storage: ModelStorage, resource: Resource, filename: str, data: Any) -> None:
    with model_storage.write_to(resource) as directory:
        joblib.dump(data, directory / filename)


def load_joblib(model_storage: ModelStorage, resource: Resource, filename: str) -> Any | None:
    """The objects, or None when the model has none (trained before the component existed)."""
    try:
        with model_storage.read_from(resource) as directory:
            return joblib.load(directory / filename)
    except (ValueError, FileNotFoundError):
        return None
