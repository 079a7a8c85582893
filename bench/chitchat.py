"""Questions about the bot itself (chitchat/*): does the worker get the right small-talk answer?

`bench/chitchat_cases/chitchat_test.yml`: 60 messages, ten for each chitchat response (what the bot
can do, whether it is free, privacy, how are you, praise, insults), written by a helper who never saw
the training data. Each message is parsed by the model; right = the intent is chitchat and the
ResponseSelector picks that response. Prints the count and the misses.

Usage: python bench/chitchat.py [--model models/X.tar.gz]
"""
from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT  # noqa: E402

from bot.config import load_settings  # noqa: E402
from bot.training import ensure_model  # noqa: E402

CASES = ROOT / "bench" / "chitchat_cases" / "chitchat_test.yml"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, help="default: the model for the current data (trained if needed)")
    args = parser.parse_args()
    model = args.model or ensure_model(load_settings())

    from rasa.core.agent import Agent
    from rasa.shared.nlu.training_data.loading import load_data

    cases = [(e.get("text"), e.get_full_intent()) for e in load_data(str(CASES)).intent_examples]
    agent = Agent.load(str(model))

    async def parse_all() -> list[dict]:
        return [await agent.parse_message(text) for text, _ in cases]

    misses = []
    for (text, label), parsed in zip(cases, asyncio.run(parse_all())):
        intent = (parsed.get("intent") or {}).get("name")
        selected = ((parsed.get("response_selector") or {}).get("default") or {}).get("response", {})
        key = selected.get("intent_response_key")
        if not (intent == "chitchat" and key == label):
            misses.append(f"  {label}: {text} -> {intent} {key or ''}")
    print(f"model: {Path(model).name}")
    print(f"chitchat answered with the right response: {len(cases) - len(misses)}/{len(cases)}")
    print("\n".join(misses))


if __name__ == "__main__":
    main()
