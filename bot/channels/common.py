"""What every channel of ours shares: its own replies to workers and the input guard."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

MAX_MESSAGE_CHARS = 2000
_REPLIES = Path(__file__).with_name("replies.yml")


@lru_cache(maxsize=1)
def replies() -> dict[str, str]:
    """The channels' own replies to workers (Chinese text lives in replies.yml)."""
    return yaml.safe_load(_REPLIES.read_text(encoding="utf-8"))


def problem_with(text: object) -> str | None:
    """The reply for a message the model should not see, or None when it is fine."""
    if not isinstance(text, str) or not text.strip():
        return replies()["empty_message"]
    if len(text) > MAX_MESSAGE_CHARS:
        return replies()["message_too_long"]
    return None
