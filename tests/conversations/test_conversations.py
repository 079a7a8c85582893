"""Conversation tests through Rasa's own test runner, with the real trained model."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def test_conversation_stories_pass(trained_model: Path, tmp_path: Path):
    out = tmp_path / "results"
    proc = subprocess.run(
        [sys.executable, "-m", "rasa", "test", "core", "--model", str(trained_model),
         "--stories", "tests/conversations/test_stories.yml", "--out", str(out),
         "--fail-on-prediction-errors", "--no-plot"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    failed = out / "failed_test_stories.yml"
    failed_text = failed.read_text(encoding="utf-8") if failed.exists() else ""
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:] + failed_text
    failed_stories = (yaml.safe_load(failed_text) or {}).get("stories") if failed_text else None
    assert not failed_stories, failed_text


ALLOWED_WARNINGS = (
    # utter_default is spoken by Rasa's built-in action_default_fallback (RulePolicy's
    # core fallback), which the validator does not know about.
    "The utterance 'utter_default' is not used in any story or rule.",
    # Rasa 3.6 adds every retrieval intent to the domain again when it merges the NLU
    # data, and then warns about the intent its own docs require the domain to list.
    "duplicated intents have been found across multiple domain files: chitchat",
    # Set by bot.nlu.urgency.UrgencyDetector from data/knowledge/urgent.yml, never trained.
    "The intent 'urgent_help' is listed in the domain file, but is not found in the NLU training data.",
)
UNUSED = re.compile(r"The utterance '(\w+)' is not used in any story or rule")


def _spoken_elsewhere(line: str) -> bool:
    """Responses uttered by our custom actions (and bot/calculate/), by forms (utter_ask_<slot>) or by bot/rasa_server.py."""
    match = UNUSED.search(line)
    if not match:
        return False
    name = match.group(1)
    code = "".join(p.read_text(encoding="utf-8") for p in [*(ROOT / "actions").glob("*.py"), *(ROOT / "bot" / "calculate").glob("*.py"),
                                                           ROOT / "bot" / "rasa_server.py"])
    form_slots = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["slots"]
    # f"utter_calc_start_{kind.value}": a family of responses named by one f-string
    families = [re.sub(r"\\\{[^}]*\\\}", r"\\w+", re.escape(f)) for f in re.findall(r'f"(utter_[^"]*)"', code)]
    return (f'"{name}"' in code or name.removeprefix("utter_ask_") in form_slots
            or any(re.fullmatch(family, name) for family in families))


def test_training_data_validates(trained_model: Path):
    proc = subprocess.run(
        [sys.executable, "-m", "rasa", "data", "validate",
         "--config", "config.yml", "--domain", "domain.yml", "--data", "data"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    warnings = [line for line in output.splitlines()
                if "UserWarning:" in line and not any(a in line for a in ALLOWED_WARNINGS)
                and not _spoken_elsewhere(line)]
    assert not warnings, "\n".join(warnings)
