"""Figures for the supervisors' dashboard, read from our tables and Rasa's tracker store.

:mod:`bot.analytics.figures` holds the values and the pure rules behind them;
:mod:`bot.analytics.queries` the read-only queries. Everything is re-exported here.
"""
from __future__ import annotations

from bot.analytics.figures import (DECLINED, FALLBACK_INTENT, FAQ_INTENT, USER_EVENT, AskBack,
                                   ClarifyFigures, ClarifyTopic, Count, DailyActivity, EmployerWarning,
                                   HandoffFigures, Ratio, UnrecognisedMessage, UnrecognisedScan, ask_backs,
                                   average, clarify_figures, clean_employer, epoch, fill_days, group_employers,
                                   median_seconds, normalise_employer, ranked, ratio, topic_of, unrecognised,
                                   untaught)
from bot.analytics.queries import EVENTS, Analytics, Units, epoch_day

__all__ = [
    "DECLINED", "EVENTS", "FALLBACK_INTENT", "FAQ_INTENT", "USER_EVENT", "Analytics", "AskBack",
    "ClarifyFigures", "ClarifyTopic", "Count", "DailyActivity", "EmployerWarning", "HandoffFigures", "Ratio",
    "UnrecognisedMessage", "UnrecognisedScan", "Units", "ask_backs", "average", "clarify_figures",
    "clean_employer", "epoch", "epoch_day", "fill_days", "group_employers", "median_seconds",
    "normalise_employer", "ranked", "ratio", "topic_of", "unrecognised", "untaught",
]
