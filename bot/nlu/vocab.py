"""Fixed-vocabulary entities (regions, day types, birth circumstances, dismissal causes) with spaCy.

A blank ``zh`` pipeline (character segmenter: no model to download, and a place name
is found whatever jieba would have made of its neighbours) with an EntityRuler built
from our data: ``data/knowledge/regions.yml`` (provinces, their aliases and cities,
each mapped to the province) and ``data/knowledge/vocab.yml``. The ruler keeps the
longest match, so 剖腹产 wins over 剖腹 and 广西壮族自治区 over 广西.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
import yaml

from bot.config import PROJECT_ROOT
from bot.nlu.numbers import Found

VOCAB_PATH = PROJECT_ROOT / "data" / "knowledge" / "vocab.yml"
BABIES_ENTITY = "babies"
TWO_BABIES = 2


@dataclass(frozen=True)
class Pattern:
    entity: str
    value: str
    text: str

    def as_spacy(self) -> dict[str, str]:
        return {"label": self.entity, "pattern": self.text, "id": self.value}


def load_patterns(vocab_path: Path = VOCAB_PATH, regions_path: Path | None = None) -> list[Pattern]:
    """Every surface form with its entity and canonical value, from the two data files."""
    from bot.knowledge.regions import DEFAULT_PATH, place_names

    raw = yaml.safe_load(Path(vocab_path).read_text(encoding="utf-8"))
    patterns = [Pattern("region", province, name)
                for name, province in place_names(regions_path or DEFAULT_PATH).items()]
    for entity, values in raw["entities"].items():
        for value, forms in values.items():
            patterns.extend(Pattern(entity, value, form) for form in forms)
    return patterns


def babies_by_form(vocab_path: Path = VOCAB_PATH) -> dict[str, int]:
    raw = yaml.safe_load(Path(vocab_path).read_text(encoding="utf-8"))
    return {str(k): int(v) for k, v in (raw.get("babies") or {}).items()}


class VocabMatcher:
    """Finds vocabulary entities in a text; build once, share (matching is read-only)."""

    def __init__(self, patterns: list[Pattern], babies: dict[str, int] | None = None) -> None:
        import spacy

        self._nlp = spacy.blank("zh")  # character segmenter: offline, no model files
        ruler = self._nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "TEXT"})
        ruler.add_patterns([p.as_spacy() for p in patterns])
        self._babies = babies or {}

    def find(self, text: str) -> list[Found]:
        found: list[Found] = []
        for span in self._nlp(text).ents:
            found.append(Found(span.label_, span.ent_id_, span.start_char, span.end_char, span.text))
            if span.label_ == "birth" and span.ent_id_ == "multiple":
                count = self._babies.get(span.text, TWO_BABIES)
                found.append(Found(BABIES_ENTITY, count, span.start_char, span.end_char, span.text))
        return found


@lru_cache(maxsize=1)
def default_matcher() -> VocabMatcher:
    """The matcher over the project's data files (for tests and tools; Rasa loads its own)."""
    return VocabMatcher(load_patterns(), babies_by_form())
