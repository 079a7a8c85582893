"""Rasa component: the entities a calculation needs, from colloquial Chinese.

Numbers (durations in months, money in yuan, hours, dates) come from
:mod:`bot.nlu.numbers` (cn2an-normalised); regions, day types, birth circumstances and
dismissal causes from the spaCy EntityRuler in :mod:`bot.nlu.vocab`. The vocabulary is
read from ``data/knowledge/`` at training time and stored in the model, so a running
model never depends on the data folder. No trained model recognises entities: these
entities are rule-based and their values are already normalised.
"""
from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.model_files import load_json, save_json
from bot.nlu.numbers import Found, extract_numbers
from bot.nlu.vocab import Pattern, VocabMatcher, babies_by_form, load_patterns

logger = logging.getLogger(__name__)

VOCAB_FILE = "vocab.json"
CHINA = ZoneInfo("Asia/Shanghai")
# Longer than any sensible message: past this, only the start is read (the channel
# already caps messages; this keeps a pasted book from costing seconds).
MAX_CHARS = 2000


def china_today() -> date:
    """Relative dates (去年三月) are meant in the worker's time zone."""
    return datetime.now(CHINA).date()


def merge(numbers: list[Found], vocab: list[Found]) -> list[Found]:
    """Numeric and vocabulary entities in text order; a vocabulary match inside a number is dropped."""
    kept = list(numbers)
    for item in vocab:
        if not any(item.start < n.end and n.start < item.end for n in numbers):
            kept.append(item)
    return sorted(kept, key=lambda f: (f.start, f.end))


class EntityFinder:
    """Both extractors over one text: the part shared by the Rasa component and the benchmarks."""

    def __init__(self, matcher: VocabMatcher) -> None:
        self._matcher = matcher

    def find(self, text: str, today: date) -> list[Found]:
        text = (text or "")[:MAX_CHARS]
        if not text.strip():
            return []
        return merge(extract_numbers(text, today), self._matcher.find(text))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class ChineseEntityExtractor(GraphComponent, EntityExtractorMixin):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"vocab_file": "data/knowledge/vocab.yml", "regions_file": "data/knowledge/regions.yml"}

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 data: dict[str, Any] | None = None) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        data = data or {"patterns": [], "babies": {}}
        patterns = [Pattern(**p) for p in data["patterns"]]
        self._finder = EntityFinder(VocabMatcher(patterns, data["babies"]))

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> ChineseEntityExtractor:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        vocab = Path(self._config["vocab_file"])
        patterns = load_patterns(vocab, Path(self._config["regions_file"]))
        data = {"patterns": [p.__dict__ for p in patterns], "babies": babies_by_form(vocab)}
        save_json(self._model_storage, self._resource, VOCAB_FILE, data)
        return self._resource

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> ChineseEntityExtractor:
        data = load_json(model_storage, resource, VOCAB_FILE)
        if data is None:
            logger.warning("no entity vocabulary in the model: regions and day types will not be found")
        return cls(config, model_storage, resource, data)

    def process(self, messages: list[Message]) -> list[Message]:
        today = china_today()
        for message in messages:
            found = self._finder.find(message.get(TEXT) or "", today)
            if not found:
                continue
            entities = [{"entity": f.entity, "value": f.value, "start": f.start, "end": f.end,
                         "text": f.text, "extractor": self.__class__.__name__} for f in found]
            message.set(ENTITIES, [*(message.get(ENTITIES) or []), *entities], add_to_output=True)
        return messages
