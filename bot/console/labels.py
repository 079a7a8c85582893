"""What staff read for the model's names: a topic's title for an intent, a Chinese word for a role.

Intent names (``overtime_pay``, ``inform``, ``faq/staff_0003``) are the model's; staff see the
topic's title (topics.yml), a staff FAQ's title, or what kind of message it was (texts_labels.yml).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Mapping

from bot.analytics.figures import FALLBACK_INTENT, FAQ_INTENT
from bot.console.deps import known_text, say
from bot.knowledge.topics import load_topics
from bot.storage.models import Role


@lru_cache(maxsize=1)
def topic_titles() -> dict[str, str]:
    """Topic id → its Chinese title, in the order of topics.yml."""
    return {topic.id: topic.title for topic in load_topics()}


def topic_label(topic_id: str) -> str:
    """A topic's Chinese title; retrieval questions staff wrote are one topic of their own."""
    if topic_id == FAQ_INTENT:
        return say("topic_faq")
    return topic_titles().get(topic_id, topic_id)


def intent_label(intent: str | None, faq_titles: Mapping[str, str] | None = None) -> str:
    """What the model's guess ``intent`` means to staff; ``faq_titles``: staff FAQs' titles by slug."""
    intent = intent or FALLBACK_INTENT
    if intent in topic_titles():
        return topic_titles()[intent]
    base, _, slug = intent.partition("/")
    if base == FAQ_INTENT:
        title = (faq_titles or {}).get(slug)
        return say("faq_choice", title=title) if title else say("topic_faq")
    return known_text(f"intent_{base}") or say("intent_other")


def role_label(role: str | Role) -> str:
    """工作人员 / 主管 / 管理员."""
    return say(f"account_role_{Role(role).value}")
