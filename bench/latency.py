"""Response time and throughput through the REST channel, ours against a stock pipeline.

Starts a real Rasa server (SQL tracker store, as `make run`) for each model and sends
worker questions from tests/nlu/ over HTTP, 8 messages per worker conversation:
  - one conversation at a time: p50/p95 response time;
  - 20 concurrent conversations: messages/s and p50/p95.
The stock model uses the default configuration of `rasa init` on the same data.

Usage: python bench/latency.py [--messages 300] [--skip-stock]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REST_AUTH, ROOT, RasaServer, load_nlu_examples, project_model, train  # noqa: E402


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


# A worker's consultation is a handful of messages; after that a new worker starts.
MESSAGES_PER_CONVERSATION = 8


def _conversation(url: str, sender: str, texts: list[str]) -> tuple[list[float], int]:
    """One simulated user sending ``texts`` in turn, as a new worker every few messages."""
    session = requests.Session()
    times, errors = [], 0
    for n, text in enumerate(texts):
        started = time.perf_counter()
        worker = f"{sender}-{n // MESSAGES_PER_CONVERSATION}"
        try:
            reply = session.post(f"{url}/webhooks/rest/webhook", headers=REST_AUTH,
                                 json={"sender": worker, "message": text}, timeout=30)
            # An empty list is an answer too: a worker waiting for a person hears the
            # acknowledgement once per HANDOFF_ACK_MINUTES, nothing for the messages in between.
            ok = reply.status_code == 200 and isinstance(reply.json(), list)
        except requests.RequestException:
            ok = False
        times.append(time.perf_counter() - started)
        errors += not ok
    return times, errors


def measure(url: str, texts: list[str], concurrency: int, total: int) -> dict:
    per_conversation = max(1, total // concurrency)
    chunks = [[texts[(c * per_conversation + i) % len(texts)] for i in range(per_conversation)]
              for c in range(concurrency)]
    _conversation(url, "warm-up", texts[:10])
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(lambda c: _conversation(url, f"bench-{concurrency}-{c[0]}", c[1]),
                                enumerate(chunks)))
    elapsed = time.perf_counter() - started
    times = [t for ts, _ in results for t in ts]
    return {
        "messages": len(times),
        "errors": sum(e for _, e in results),
        "p50_ms": _percentile(times, 50) * 1000,
        "p95_ms": _percentile(times, 95) * 1000,
        "per_s": len(times) / elapsed,
    }


def run_model(label: str, model: Path, texts: list[str], total: int) -> None:
    with RasaServer(model) as server:
        for concurrency in (1, 20):
            r = measure(server.url, texts, concurrency, total)
            print(f"{label:<6} {concurrency:>2} conversations: p50 {r['p50_ms']:6.1f} ms  "
                  f"p95 {r['p95_ms']:6.1f} ms  {r['per_s']:6.1f} msg/s  "
                  f"({r['messages']} messages, {r['errors']} errors)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300, help="messages per measurement")
    parser.add_argument("--skip-stock", action="store_true")
    parser.add_argument("--model", type=Path)
    parser.add_argument("--stock-model", type=Path, help="reuse a stock model trained before")
    args = parser.parse_args()

    texts = [t for t, _ in load_nlu_examples(ROOT / "tests" / "nlu" / "test_set.yml")]
    ours = args.model or project_model()
    print(f"model: {ours.name}; {len(texts)} distinct worker messages; 2-core machine", flush=True)
    run_model("ours", ours, texts, args.messages)
    if args.skip_stock:
        return
    stock = args.stock_model
    if stock is None:
        out = Path(tempfile.mkdtemp(prefix="niangjia-stock-"))
        stock, seconds = train(ROOT / "bench" / "stock_config.yml", out, "stock")
        print(f"stock model (rasa init defaults) trained in {seconds:.0f} s", flush=True)
    run_model("stock", stock, texts, args.messages)


if __name__ == "__main__":
    main()
