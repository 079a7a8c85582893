"""Crisis and urgent words, kept as data in ``data/knowledge/urgent.yml``.

A message that matches goes to a person at once; life-risk categories also get 110/120.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import yaml

from bot.config import PROJECT_ROOT
from bot.storage.models import Priority

URGENT_FILE = PROJECT_ROOT / "data" / "knowledge" / "urgent.yml"


@dataclass(frozen=True)
class UrgencyRule:
    category: str
    priority: Priority
    life_risk: bool
    patterns: tuple[re.Pattern[str], ...]

    def matches(self, text: str) -> bool:
        return any(p.search(text) for p in self.patterns)


@dataclass(frozen=True)
class Urgency:
    category: str
    priority: Priority
    life_risk: bool


def rules_from_data(data: dict[str, Any]) -> list[UrgencyRule]:
    """Compile the categories of urgent.yml; a bad pattern fails loudly with its category."""
    rules = []
    for category, spec in data["categories"].items():
        try:
            patterns = tuple(re.compile(p, re.IGNORECASE) for p in spec["patterns"])
        except re.error as exc:
            raise ValueError(f"urgent.yml: bad pattern in {category}: {exc}") from exc
        rules.append(UrgencyRule(category, Priority[spec["priority"].upper()],
                                 bool(spec.get("life_risk")), patterns))
    # Crisis categories are checked first, so the most serious reading wins.
    return sorted(rules, key=lambda r: r.priority)


def load_rules(path: Path = URGENT_FILE) -> list[UrgencyRule]:
    return rules_from_data(yaml.safe_load(path.read_text(encoding="utf-8")))


def detect(text: str, rules: Iterable[UrgencyRule]) -> Urgency | None:
    """The most serious category ``text`` falls in, or None."""
    for rule in rules:
        if rule.matches(text):
            return Urgency(rule.category, rule.priority, rule.life_risk)
    return None
