"""Collaborators of the actions, built lazily on first use (never at import)."""
from __future__ import annotations

from functools import lru_cache

from bot.config import load_settings
from bot.knowledge.regions import Region, load_regions
from bot.knowledge.topics import Topic, load_topics
from bot.storage.db import Database
from bot.storage.privacy import PrivacyService
from bot.storage.services import ComplaintService, HandoffService
from bot.urgency import UrgencyRule, load_rules


@lru_cache(maxsize=1)
def database() -> Database:
    return Database(load_settings().database_url)


def complaint_service() -> ComplaintService:
    return ComplaintService(database())


def privacy_service() -> PrivacyService:
    return PrivacyService(database())


def handoff_service() -> HandoffService:
    return HandoffService(database(), claim_minutes=load_settings().handoff_claim_minutes)


@lru_cache(maxsize=1)
def topics() -> dict[str, Topic]:
    return {topic.id: topic for topic in load_topics()}


def topic_titles() -> dict[str, str]:
    return {topic.id: topic.title for topic in topics().values()}


@lru_cache(maxsize=1)
def urgency_rules() -> dict[str, UrgencyRule]:
    return {rule.category: rule for rule in load_rules()}


@lru_cache(maxsize=1)
def regions() -> dict[str, Region]:
    return load_regions()


def region(region_id: str | None) -> Region | None:
    """The worker's region (an id from data/knowledge/regions.yml), if known."""
    return regions().get(region_id) if region_id else None
