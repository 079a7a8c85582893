"""Load benchmark: virtual workers holding realistic conversations through the REST channel.

Each virtual worker repeatedly picks a conversation from bench/load_flows.yml (weighted mix:
FAQ questions, calculations with the worker's numbers, a complaint filed to its ticket, a
handoff to staff followed by messages the paused bot only logs), runs it as a new sender, and
thinks --think-min..--think-max seconds between a reply and its next message. After the load
stops it checks that every confirmed ticket is stored exactly once and that every message
answered with HTTP 200 is in the tracker store exactly once, in order.

    .venv/bin/python bench/load.py [--users 100] [--duration 600] [--think-min 0.3]
        [--think-max 1.5] [--seed 1] [--mix faq=40,calc=30,complaint=20,handoff=10]
    .venv/bin/python bench/load.py --url http://127.0.0.1:8000 \\
        --database-url postgresql://... [--tracker-url postgresql://...]

Without --url it starts the single-machine stack (bench/_common.Assistant: SQLite). The
last line printed is a JSON summary; the exit status is 0 only when there were no errors,
no HTTP 429 and the count check passed.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sys
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import aiohttp
import yaml
from sqlalchemy import column, create_engine, select, table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._common import REST_AUTH, Assistant, project_model  # noqa: E402
from bot.channels.common import replies  # noqa: E402
from bot.config import load_settings  # noqa: E402

TICKET = re.compile(r"NJ-\d{8}-[2-9A-HJKMNP-Z]{5}")
MIN_GAP = 0.3    # seconds between two messages of one sender: below the per-sender rate limit
TIMEOUT = 60.0   # seconds per message
Step = tuple[str, "str | None"]


def failure_texts() -> dict[str, str]:
    """Replies that mean the turn failed: utter_action_failed, and the channel's system_busy."""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    return {"action_failed": domain["responses"]["utter_action_failed"][0]["text"],
            "system_busy": replies()["system_busy"]}


class Scripts:
    """Draws conversations (lists of steps) from the flows file."""

    def __init__(self, flows: dict[str, Any], mix: dict[str, float]) -> None:
        self.flows, self.mix = flows, mix

    def pick(self, rng: random.Random) -> tuple[str, list[Step]]:
        """A kind by weight; faq and complaint are composed, other kinds are whole scripts."""
        kind = rng.choices(list(self.mix), weights=list(self.mix.values()))[0]
        build = {"faq": self.faq, "complaint": self.complaint}.get(kind)
        return kind, build(rng) if build else list(map(steps_of, rng.choice(self.flows[kind])))

    def faq(self, rng: random.Random) -> list[Step]:
        f = self.flows
        steps: list[Step] = [(q, f["faq_expect"]) for q in rng.sample(f["faq"], rng.randint(2, 4))]
        if rng.random() < 0.3:
            steps.insert(0, (rng.choice(f["faq_openers"]), None))
        if rng.random() < 0.5:
            steps.append((rng.choice(f["faq_closers"]), None))
        return steps

    def complaint(self, rng: random.Random) -> list[Step]:
        f = self.flows
        values = {
            "employer": rng.choice(f["complaint_employers"]), "topic": rng.choice(f["complaint_topics"]),
            "since": rng.choice(f["since_answers"]), "workers": rng.choice(f["worker_answers"]),
            "phone": f"1{rng.choice('3589')}{rng.randrange(10 ** 9):09d}",
            "description": rng.choice(f["complaint_descriptions"]).format(
                months=rng.randint(1, 11), amount=rng.randrange(2000, 90000, 10), hours=rng.randint(20, 90)),
        }
        script = rng.choice(list(f["complaint"].values()))
        return [(text.format(**values), expect) for text, expect in map(steps_of, script)]


def steps_of(step: list[str]) -> Step:
    return step[0], (step[1] if len(step) > 1 else None)


@dataclass
class Stats:
    """Everything the virtual workers observed."""

    latency: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter = field(default_factory=Counter)
    rate_limited: int = 0
    started: Counter = field(default_factory=Counter)
    finished: Counter = field(default_factory=Counter)
    off_script: Counter = field(default_factory=Counter)
    off_examples: defaultdict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    answered: defaultdict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # HTTP 200
    unsure: defaultdict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # no answer
    tickets: dict[str, str] = field(default_factory=dict)  # ticket -> sender


@dataclass
class Load:
    """One run: where to send, how workers behave, what was seen."""

    url: str
    scripts: Scripts
    think: tuple[float, float]
    deadline: float
    http: aiohttp.ClientSession
    failures: dict[str, str]
    stats: Stats = field(default_factory=Stats)

    async def send(self, kind: str, sender: str, text: str) -> str | None:
        """Post one message; the joined reply texts, or None after an error or a 429."""
        started = time.perf_counter()
        try:
            async with self.http.post(f"{self.url}/webhooks/rest/webhook",
                                      json={"sender": sender, "message": text}) as response:
                status, body = response.status, await response.text()
        except asyncio.TimeoutError:
            return self.failed("timeout", sender, text, unsure=True)
        except aiohttp.ClientError:
            return self.failed("connection", sender, text, unsure=True)
        self.stats.latency[kind].append(time.perf_counter() - started)
        if status == 429:
            self.stats.rate_limited += 1
            return None
        if status != 200:
            return self.failed(f"http_{status}", sender, text, unsure=status >= 500)
        self.stats.answered[sender].append(text)
        try:
            reply = "\n".join(m.get("text") or "" for m in json.loads(body))
        except (ValueError, AttributeError, TypeError):
            return self.failed("bad_body", sender, text)
        for name, failure in self.failures.items():
            if failure in reply:
                return self.failed(name, sender, text)
        return reply

    def failed(self, kind: str, sender: str, text: str, unsure: bool = False) -> None:
        self.stats.errors[kind] += 1
        if unsure:
            self.stats.unsure[sender].append(text)
        return None

    async def worker(self, rng: random.Random) -> None:
        await asyncio.sleep(rng.uniform(0, self.think[1]))  # spread the start
        while time.monotonic() < self.deadline:
            await self.converse(*self.scripts.pick(rng), rng)

    async def converse(self, kind: str, steps: list[Step], rng: random.Random) -> None:
        """One conversation as a new sender; abandoned at the deadline or after an error."""
        sender, last_sent, reply = uuid.uuid4().hex, -MIN_GAP, ""
        self.stats.started[kind] += 1
        for n, (text, expect) in enumerate(steps):
            if n:
                gap = MIN_GAP - (time.monotonic() - last_sent)
                await asyncio.sleep(max(rng.uniform(*self.think), gap))
            if time.monotonic() >= self.deadline:
                return
            last_sent = time.monotonic()
            reply = await self.send(kind, sender, text)
            if reply is None:
                return
            if expect is not None and (expect not in reply if expect else reply.strip()):
                self.stats.off_script[kind] += 1
                self.stats.off_examples[kind][f"{text!r} -> {reply[:100]!r} (wanted {expect!r})"] += 1
        self.stats.finished[kind] += 1
        if kind == "complaint":
            ticket = TICKET.search(reply)
            if ticket:
                self.stats.tickets[ticket.group()] = sender
            else:
                self.stats.errors["no_ticket"] += 1


async def run_load(url: str, scripts: Scripts, args: argparse.Namespace) -> tuple[Stats, float]:
    rng = random.Random(args.seed)
    timeout = aiohttp.ClientTimeout(total=TIMEOUT)
    connector = aiohttp.TCPConnector(limit=args.users + 10)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector, headers=REST_AUTH) as http:
        load = Load(url, scripts, (args.think_min, args.think_max), time.monotonic() + args.duration,
                    http, failure_texts())
        started = time.perf_counter()
        await asyncio.gather(*(load.worker(random.Random(rng.random())) for _ in range(args.users)))
        return load.stats, time.perf_counter() - started


def chunks(items: list[str], size: int = 500) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def conversation(sender: str) -> str:
    """The id Rasa and our tables keep for a REST client's ``sender`` (bot.channels.rest)."""
    return f"rest:{sender}"


def check_tickets(database_url: str, stats: Stats) -> dict[str, int]:
    """Every confirmed ticket stored once, to its sender; the benchmark's rows == confirmed tickets."""
    complaints = table("complaints", column("ticket"), column("sender_id"))
    engine = create_engine(database_url)
    with engine.connect() as db:
        by_ticket = [r for c in chunks(list(stats.tickets))
                     for r in db.execute(select(complaints.c.ticket, complaints.c.sender_id)
                                         .where(complaints.c.ticket.in_(c)))]
        rows = sum(len(db.execute(select(complaints.c.ticket).where(complaints.c.sender_id.in_(c))).all())
                   for c in chunks([conversation(s) for s in stats.answered]))
    engine.dispose()
    found = Counter(ticket for ticket, _ in by_ticket)
    return {"confirmed": len(stats.tickets), "rows": rows,
            "tickets_missing": sum(1 for t in stats.tickets if not found[t]),
            "tickets_duplicated": sum(n - 1 for n in found.values() if n > 1),
            "wrong_sender": sum(1 for t, s in by_ticket if conversation(stats.tickets[t]) != s)}


def check_tracker(tracker_url: str, stats: Stats) -> dict[str, int]:
    """Each sender's user events == the messages it had answered with HTTP 200, in order."""
    events = table("events", column("id"), column("sender_id"), column("type_name"), column("data"))
    logged: defaultdict[str, list[str]] = defaultdict(list)
    engine = create_engine(tracker_url)
    with engine.connect() as db:
        for c in chunks([conversation(s) for s in stats.answered]):
            query = (select(events.c.sender_id, events.c.data)
                     .where(events.c.type_name == "user", events.c.sender_id.in_(c)).order_by(events.c.id))
            for sender, data in db.execute(query):
                logged[sender.removeprefix("rest:")].append(json.loads(data).get("text"))
    engine.dispose()
    lost = duplicated = misordered = 0
    for sender, expected in stats.answered.items():
        actual = logged.get(sender, [])
        missing = Counter(expected) - Counter(actual)
        extra = Counter(actual) - Counter(expected) - Counter(stats.unsure.get(sender, []))
        lost, duplicated = lost + sum(missing.values()), duplicated + sum(extra.values())
        misordered += not missing and not extra and sender not in stats.unsure and actual != expected
    return {"messages_checked": sum(map(len, stats.answered.values())), "lost": lost,
            "duplicated": duplicated, "misordered": misordered}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000 if ordered else 0.0


def report(stats: Stats, elapsed: float, check: dict[str, int], args: argparse.Namespace) -> dict:
    everything = [t for ts in stats.latency.values() for t in ts]
    total, convs = len(everything), sum(stats.finished.values())
    errors = sum(stats.errors.values())
    print(f"{args.users} virtual workers, think {args.think_min}-{args.think_max} s, seed {args.seed}")
    print(f"messages {total} in {elapsed:.1f} s: {total / elapsed:.1f} messages/s, "
          f"{convs / elapsed:.2f} conversations/s ({convs} finished of {sum(stats.started.values())} started)")
    print(f"{'kind':<10}{'convs':>7}{'msgs':>7}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}  ms  off-script")
    for kind, values in sorted(stats.latency.items()) + [("all", everything)]:
        print(f"{kind:<10}{stats.finished[kind] if kind != 'all' else convs:>7}{len(values):>7}"
              + "".join(f"{pct(values, p):>8.0f}" for p in (50, 95, 99, 100))
              + f"      {stats.off_script[kind] if kind != 'all' else sum(stats.off_script.values())}")
    print(f"errors {errors} {dict(stats.errors)}; HTTP 429: {stats.rate_limited}")
    for kind, examples in sorted(stats.off_examples.items()):
        for example, n in examples.most_common(3):
            print(f"  off-script {kind} ×{n}: {example}")
    print("count check: " + ", ".join(f"{k} {v}" for k, v in check.items()))
    problems = ("tickets_missing", "tickets_duplicated", "wrong_sender", "lost", "duplicated", "misordered")
    ok = (errors == 0 and stats.rate_limited == 0 and check["confirmed"] == check["rows"]
          and not any(check[name] for name in problems))
    print("PASS" if ok else "FAIL")
    return {"users": args.users, "duration_s": round(elapsed, 1), "messages": total,
            "msg_per_s": round(total / elapsed, 2), "conv_per_s": round(convs / elapsed, 3),
            **{f"p{p}_ms": round(pct(everything, p), 1) for p in (50, 95, 99)},
            "max_ms": round(pct(everything, 100), 1), "errors": errors, "rate_limited": stats.rate_limited,
            "lost": check["lost"], "duplicated": check["duplicated"], "tickets": check["confirmed"],
            "ok": ok}


def measure(url: str, database_url: str, tracker_url: str, args: argparse.Namespace) -> dict:
    flows = yaml.safe_load(args.flows.read_text(encoding="utf-8"))
    mix = dict(flows["mix"], **args.mix)
    if unknown := [kind for kind, weight in mix.items() if weight and kind not in flows]:
        sys.exit(f"no conversations of kind {unknown} in {args.flows}")
    stats, elapsed = asyncio.run(run_load(url, Scripts(flows, mix), args))
    time.sleep(args.settle)
    check = {**check_tickets(database_url, stats), **check_tracker(tracker_url, stats)}
    return report(stats, elapsed, check, args)


def parse_mix(text: str) -> dict[str, float]:
    pairs = (item.split("=") for item in text.split(",") if item)
    return {kind.strip(): float(weight) for kind, weight in pairs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--duration", type=float, default=600, help="seconds of load")
    parser.add_argument("--think-min", type=float, default=0.3)
    parser.add_argument("--think-max", type=float, default=1.5)
    parser.add_argument("--seed", type=int, default=random.randrange(10 ** 6))
    parser.add_argument("--mix", type=parse_mix, default={}, help="e.g. faq=40,calc=30,complaint=20,handoff=10")
    parser.add_argument("--flows", type=Path, default=ROOT / "bench" / "load_flows.yml")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds to wait before the count check")
    parser.add_argument("--url", help="a running deployment (default: start the single-machine stack)")
    parser.add_argument("--database-url", help="SQLAlchemy URL of our tables (with --url)")
    parser.add_argument("--tracker-url", help="SQLAlchemy URL of Rasa's tracker store (default: --database-url)")
    args = parser.parse_args()
    if args.url:
        if not args.database_url:
            parser.error("--url needs --database-url (and --tracker-url unless it is the same database)")
        summary = measure(args.url.rstrip("/"), args.database_url, args.tracker_url or args.database_url, args)
    else:
        project_model()
        with Assistant() as assistant:
            summary = measure(assistant.rasa_url, assistant.database_url,
                              load_settings(assistant.env).tracker_url, args)
    print(json.dumps(summary))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
