"""Hostile-input tests: one fixed, reproducible hypothesis budget and the strategies they share.

The budget is ``FUZZ_EXAMPLES`` examples per test (default below), applied with the
``fuzz()`` decorator rather than a global profile, so loading this directory never changes
the settings of the other hypothesis tests of the suite. ``derandomize`` makes every run
try the same inputs (CI and a developer see the same failure); no example database is kept.

The live-stack tests reuse the session stack of tests/conftest.py (``servers``); the
``live`` fixture checks after each test that the Rasa server is still alive and restarts
it if a hostile request killed it, so one crash does not take the rest of the suite down.
"""
from __future__ import annotations

import os
import time
import unicodedata
from typing import Iterator

import pytest
import requests
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

from tests.conftest import Stack

# Examples per test. 80: the whole directory in about 3 minutes on 2 cores with the stack up.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES") or 80)
# FUZZ_SHRINK=0 reports the first failing input as found (no minimising: bounded time in CI).
SHRINK = os.environ.get("FUZZ_SHRINK", "1") != "0"


def fuzz(scale: float = 1.0) -> settings:
    """The budget for one test: ``scale`` times ``FUZZ_EXAMPLES`` examples, at least 3."""
    phases = [p for p in Phase if SHRINK or p not in (Phase.shrink, Phase.explain)]
    return settings(max_examples=max(3, round(EXAMPLES * scale)), deadline=None, derandomize=True,
                    database=None, print_blob=False, phases=phases,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large, HealthCheck.large_base_example])


# -- hostile strings ------------------------------------------------------------------------------
SQL = ["'; DROP TABLE complaints; --", "1 OR 1=1", "' OR '1'='1' --", '" OR ""="', "1; DELETE FROM staff_users",
       "' UNION SELECT password_hash FROM staff_users --", "%' AND 1=0 UNION SELECT 1 --", "%", "_", "\\"]
# Markup that must never reach a page unescaped (each has a character escaping changes).
SCRIPT = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "'><svg onload=alert(1)>",
          "</textarea><script>alert(1)</script>", '<iframe src="javascript:alert(1)"></iframe>',
          "<a href='javascript:alert(1)'>x</a>"]
OTHER = ["{{7*7}}", "{% if 1 %}x{% endif %}", "${7*7}", "%s%s%s%n", "{0.__class__}", "\u202e\u202dabc",
         "\ufeff", "\u200b", "../../../../etc/passwd", "]]><x>", "&amp;&lt;&#0;", "null", "NaN", "-1", "0x7fffffff",
         "/restart", "/nlu_fallback", '/inform{"complaint_employer": "x"}', "\x00", "a\x00b", "\r\n\r\n", "\x1b[31m"]
INJECTIONS = SQL + SCRIPT + OTHER
EMOJI = ["😀", "👨‍👩‍👧‍👦", "🇨🇳", "👍🏽", "❤️", "🀄", "🧧", "\u200d", "\ufe0f", "🏳️‍🌈", "💩"]
WHITESPACE = " \t\n\r\u3000\xa0\u2028\u2029\x0b\x0c\x1c\x85"

unicode_text = st.text(st.characters(codec="utf-8"), max_size=300)  # every code point but surrogates
short_text = st.text(st.characters(codec="utf-8"), max_size=12)
emoji_text = st.lists(st.sampled_from(EMOJI) | st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF),
                      min_size=1, max_size=30).map("".join)
whitespace_text = st.text(st.sampled_from(WHITESPACE), max_size=20)
binaryish_text = st.binary(max_size=300).map(lambda b: b.decode("latin-1")) | st.binary(max_size=300).map(
    lambda b: b.decode("utf-8", "replace"))
injection_text = st.sampled_from(INJECTIONS) | st.tuples(short_text, st.sampled_from(INJECTIONS), short_text).map(
    "".join)


def long_text(min_size: int = 2001, max_size: int = 100_000) -> st.SearchStrategy[str]:
    """A long message, cheaply: a unit repeated (hypothesis' own text() is slow at this size)."""
    return st.builds(lambda unit, n: (unit * n)[:n], st.sampled_from(["欠", "a", "😀", " ", "工资 ", "\n", "<b>"]),
                     st.integers(min_size, max_size))


def hostile_text(max_size: int = 100_000) -> st.SearchStrategy[str]:
    """Anything a worker or an attacker might type or paste."""
    parts = [unicode_text, emoji_text, whitespace_text, binaryish_text, injection_text, st.just("")]
    if max_size >= 2005:  # around the channels' limit of 2000 characters
        parts += [st.integers(1995, 2005).map(lambda n: "欠" * n), long_text(2001, max_size)]
    return st.one_of(*parts).map(lambda t: t[:max_size])


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry (WeChat never sends them)."""
    return "".join(c for c in text if c in "\t\n\r" or (" " <= c and c not in "\ufffe\uffff"
                                                         and unicodedata.category(c) != "Cs"))


def shown(text: str) -> str:
    """How WeChat's XML delivers ``text`` to the bot: line ends normalised, outer whitespace gone."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def unsafe_markup(html: str) -> list[str]:
    """The script payloads that appear unescaped in ``html``."""
    return [p for p in SCRIPT if p in html]


# -- the live stack -------------------------------------------------------------------------------
def rasa_alive(stack: Stack) -> bool:
    proc = stack.procs.get("rasa")
    if proc is None or proc.poll() is not None:
        return False
    try:
        return requests.get(f"{stack.rasa_url}/status", params={"token": stack.token}, timeout=10).ok
    except requests.RequestException:
        return False


def revive(stack: Stack) -> bool:
    """True if Rasa is alive; otherwise restart it (the rest of the suite needs it) and say False."""
    if rasa_alive(stack):
        return True
    time.sleep(1)
    proc = stack.procs.get("rasa")
    if proc is not None and proc.poll() is None:
        stack.kill("rasa")
    stack.procs.pop("rasa", None)
    stack.start("rasa")
    return False


@pytest.fixture
def live(servers: Stack) -> Iterator[Stack]:
    """The session stack; after the test, Rasa must still be up (restarted if it was killed)."""
    yield servers
    if not revive(servers):
        pytest.fail(f"the Rasa server died during this test and was restarted (see {servers.logs / 'rasa.log'})")
