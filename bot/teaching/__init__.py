"""Teaching the assistant: staff-made FAQs and examples, retrained and published safely.

``staff_data`` turns what staff wrote into Rasa training files, ``evaluate`` measures a
model on the held-out test set (in a subprocess, so TensorFlow stays out of the web
process), and ``publish`` trains, compares and loads a new model only when it is no worse.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

_TEXTS = Path(__file__).with_name("texts.yml")


@lru_cache(maxsize=1)
def texts() -> dict[str, Any]:
    """Text staff and workers see (Chinese lives in texts.yml, not in Python)."""
    return yaml.safe_load(_TEXTS.read_text(encoding="utf-8"))
