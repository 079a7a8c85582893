"""NLU accuracy on the held-out set (tests/nlu/) and on the real questions (../shared/eval).

Usage:
  python bench/nlu_accuracy.py                   # the project model (trained if needed)
  python bench/nlu_accuracy.py --model X.tar.gz  # a given model
  python bench/nlu_accuracy.py --config C.yml    # train a model with another config first

Prints topic accuracy, the first-ranked topic before the fallback (and whether the right one is
in the top three: what the ask-back can offer), out-of-scope rejection and the most frequent confusions;
then the sub-answers on tests/nlu/subs_test.yml (blind sub-questions, each with its topic and
sub-answer): the right topic and sub-answer, and the right sub-answer when the topic is right.
The real questions are measured only: they are never used for training.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    ROOT, TOPIC_IDS, load_nlu_examples, load_real_questions, project_model, quiet_rasa_logs,
    topic_of, train,
)

BASIC_INTENTS = {"greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "request_human",
                 "file_complaint"}


def parse_all(model: Path, texts: list[str]) -> tuple[list[dict], float]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))

    async def run() -> list[dict]:
        return [await agent.parse_message(t) for t in texts]

    started = time.perf_counter()
    parses = asyncio.run(run())
    return parses, (time.perf_counter() - started) / max(len(texts), 1)


def score(pairs: list[tuple[str, str]], parses: list[dict]) -> dict:
    """Accuracy figures for (text, label) pairs and their parses."""
    topic_hits = topic_total = oos_hits = oos_total = other_hits = other_total = 0
    first_ranked_hits = top3_hits = 0
    basic_hits = basic_total = 0
    confusions: Counter[tuple[str, str]] = Counter()
    for (_, label), parse in zip(pairs, parses):
        predicted = topic_of(parse)
        if label in TOPIC_IDS:
            topic_total += 1
            topic_hits += predicted == label
            ranked = [e.get("name") for e in parse.get("intent_ranking") or [] if e.get("name") != "nlu_fallback"]
            first_ranked_hits += bool(ranked) and ranked[0] == label
            top3_hits += label in [r for r in ranked if r in TOPIC_IDS][:3]
        elif label == "out_of_scope":
            oos_total += 1
            oos_hits += predicted == "out_of_scope"
        elif label == "other_labour":
            other_total += 1
            other_hits += predicted in TOPIC_IDS or predicted in {"request_human", "out_of_scope"}
            continue
        elif label in BASIC_INTENTS or label.startswith("chitchat"):
            basic_total += 1
            basic_hits += predicted == label.split("/")[0]
            continue
        if predicted != label:
            confusions[(label, predicted)] += 1
    in_scope = topic_total + other_total
    return {
        "n": len(pairs),
        "topic_accuracy": _ratio(topic_hits, topic_total),
        # the model's ranking before the fallback: what the ask-back can offer
        "first_ranked_topic": _ratio(first_ranked_hits, topic_total),
        "topic_in_top3": _ratio(top3_hits, topic_total),
        "in_scope_accuracy": _ratio(topic_hits + other_hits, in_scope),
        "oos_rejection": _ratio(oos_hits, oos_total),
        "all_accuracy": _ratio(topic_hits + other_hits + oos_hits + basic_hits,
                               topic_total + other_total + oos_total + basic_total),
        "basic_intent_accuracy": _ratio(basic_hits, basic_total),
        "counts": {"topic": topic_total, "other_labour": other_total, "oos": oos_total,
                   "basic": basic_total},
        "top_confusions": [f"{a} -> {b}: {n}" for (a, b), n in confusions.most_common(12)],
    }


SUBS_TEST = ROOT / "tests" / "nlu" / "subs_test.yml"


def load_sub_questions(path: Path = SUBS_TEST) -> list[tuple[str, str, str]]:
    """(text, topic, sub-answer id) of the blind sub-question set."""
    import yaml

    rows = yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]
    return [(str(r["text"]), str(r["topic"]), str(r["sub"])) for r in rows]


def chosen_sub(parse: dict) -> str:
    """The sub-answer a parse gets: its ``sub`` entity, else the topic's overview."""
    return next((str(e.get("value")) for e in parse.get("entities") or [] if e.get("entity") == "sub"), "overview")


def score_subs(rows: list[tuple[str, str, str]], parses: list[dict]) -> dict:
    both = topic_right = sub_when_topic = 0
    misses: Counter[str] = Counter()
    for (_, topic, sub), parse in zip(rows, parses):
        if topic_of(parse) != topic:
            continue
        topic_right += 1
        if chosen_sub(parse) == sub:
            both += 1
            sub_when_topic += 1
        else:
            misses[f"{topic}/{sub} -> {chosen_sub(parse)}"] += 1
    return {"n": len(rows), "topic_and_sub": _ratio(both, len(rows)), "topic": _ratio(topic_right, len(rows)),
            "sub_when_topic_right": _ratio(sub_when_topic, topic_right),
            "top_misses": [f"{m}: {n}" for m, n in misses.most_common(12)]}


def _ratio(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def report(name: str, result: dict) -> None:
    pct = lambda v: "n/a" if v is None else f"{v * 100:.1f} %"  # noqa: E731
    print(f"\n== {name} (n={result['n']}, {result['counts']})")
    print(f"topic accuracy        {pct(result['topic_accuracy'])}")
    print(f"first-ranked topic    {pct(result['first_ranked_topic'])} (before the fallback; "
          f"in the top 3 topics: {pct(result['topic_in_top3'])})")
    print(f"in-scope accuracy     {pct(result['in_scope_accuracy'])}")
    print(f"out-of-scope rejected {pct(result['oos_rejection'])}")
    print(f"basic intents         {pct(result['basic_intent_accuracy'])}")
    print(f"all                   {pct(result['all_accuracy'])}")
    print("confusions (label -> predicted):")
    for line in result["top_confusions"]:
        print(f"  {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path)
    parser.add_argument("--config", type=Path, help="train a fresh model with this config first")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    quiet_rasa_logs()

    if args.config:
        out = Path(tempfile.mkdtemp(prefix="niangjia-nlu-"))
        model, seconds = train(args.config, out, "candidate")
        print(f"trained {args.config} in {seconds:.0f} s")
    else:
        model = args.model or project_model()
    print(f"model: {model}")

    held_out = load_nlu_examples(ROOT / "tests" / "nlu" / "test_set.yml")
    real = load_real_questions()
    figures = {}
    for name, pairs in (("held-out tests/nlu/test_set.yml", held_out),
                        ("real questions ../shared/eval (measure only)", real)):
        parses, per_parse = parse_all(model, [t for t, _ in pairs])
        figures[name] = score(pairs, parses)
        figures[name]["mean_parse_ms"] = round(per_parse * 1000, 1)
        report(name, figures[name])
        print(f"mean parse time       {per_parse * 1000:.1f} ms")
    if SUBS_TEST.exists():
        rows = load_sub_questions()
        parses, _ = parse_all(model, [t for t, _, _ in rows])
        subs = figures["sub-answers tests/nlu/subs_test.yml"] = score_subs(rows, parses)
        pct = lambda v: "n/a" if v is None else f"{v * 100:.1f} %"  # noqa: E731
        print(f"\n== sub-answers tests/nlu/subs_test.yml (n={subs['n']})")
        print(f"right topic and sub-answer  {pct(subs['topic_and_sub'])}")
        print(f"right topic                 {pct(subs['topic'])}")
        print(f"right sub-answer when the topic is right  {pct(subs['sub_when_topic_right'])}")
        for line in subs["top_misses"]:
            print(f"  {line}")
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
