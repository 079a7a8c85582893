"""What staff read for the model's names: a topic's title for an intent, a Chinese word for a role
or a channel, a button's title for the payload a worker's button press sent.

Intent names (``overtime_pay``, ``inform``, ``faq/staff_0003``) are the model's; staff see the
topic's title (topics.yml), a staff FAQ's title, or what kind of message it was (texts_labels.yml).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Mapping

import yaml

from bot.analytics.figures import FALLBACK_INTENT, FAQ_INTENT
from bot.channels.wechat_menu import click_payloads, menu_json
from bot.clarify import NONE, NONE_HUMAN
from bot.config import PROJECT_ROOT
from bot.console.deps import known_text, say
from bot.knowledge.topics import load_topics
from bot.payloads import is_payload, payload_key, titles_of
from bot.storage.models import MessageRole, Role

DOMAIN_FILE = PROJECT_ROOT / "domain.yml"
GENERATED_DIR = PROJECT_ROOT / "data" / "generated"  # the topics' responses (bot.knowledge.generate)


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


def channel_label(channel: str | None) -> str:
    """网页 / 微信 / 企业微信 / …: the channel a worker wrote through, as staff call it."""
    if not channel:
        return say("channel_unknown")
    return known_text(f"channel_{channel}") or say("channel_other", name=channel)


@lru_cache(maxsize=1)
def button_titles() -> dict[str, str]:
    """Payload key → the title of a button that sends it, for a payload the transcript did not title
    (recorded before titles were, or pressed on an older message): the buttons of the domain's and the
    generated responses (their doubled braces made single, as Rasa renders them), the ask-back's ways
    out, a topic's own button, the WeChat menu."""
    responses: dict = {}
    for path in (DOMAIN_FILE, *sorted(GENERATED_DIR.glob("*.yml"))):
        responses.update((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("responses") or {})
    buttons = [{**b, "payload": str(b.get("payload") or "").replace("{{", "{").replace("}}", "}")}
               for variants in responses.values() for variant in variants or [] for b in variant.get("buttons") or []]
    buttons += [NONE_HUMAN, NONE]
    buttons += [{"payload": f"/{topic}", "title": title} for topic, title in topic_titles().items()]
    payloads = click_payloads()
    buttons += [{"payload": payloads[b["key"]], "title": b["name"]}
                for group in menu_json()["button"] for b in group["sub_button"]]
    return titles_of(buttons)


def shown_text(role: str, text: str) -> str | None:
    """A transcript message as staff read it. A worker's button payload becomes the button's title;
    a payload no button sends (``/greet`` from the chat page, a typed command) is not shown (None)."""
    if role != MessageRole.WORKER.value or not is_payload(text):
        return text
    return button_titles().get(payload_key(text) or "")
