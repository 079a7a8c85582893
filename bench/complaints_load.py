"""Files complaints through the REST channel from many concurrent conversations.

Default: 500 complaints from 50 concurrent workers (10 each), on the embedded defaults
(SQLite, one Rasa server, one action server). Prints throughput, message latency
percentiles and the count check: every ticket the bot confirmed is in the database
exactly once, and there are as many rows as confirmed complaints.

    .venv/bin/python bench/complaints_load.py [--workers 50] [--per-worker 10]
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import REST_AUTH, Assistant, project_model  # noqa: E402
from bot.storage.db import Database  # noqa: E402
from bot.storage.models import Complaint  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

TICKET = re.compile(r"NJ-\d{8}-[2-9A-HJKMNP-Z]{5}")
EMPLOYERS = ["宏达电子厂", "顺安物流有限公司", "城南建筑工地", "美味餐饮连锁店", "新华纺织厂"]


def answers(worker: int, n: int) -> list[str]:
    """One complaint's messages; each complaint's content differs (else it is deduplicated)."""
    return ["我要投诉", EMPLOYERS[(worker + n) % len(EMPLOYERS)], "/wage_arrears",
            f"拖欠我第{n + 1}批工资，共{3000 + worker * 10 + n}元，工号{worker}", "上个月",
            str(1 + n % 5), "匿名", "确认提交"]


def run_worker(url: str, worker: int, per_worker: int, latencies: list[float],
               lock: threading.Lock) -> tuple[list[str], int]:
    sender, session = uuid.uuid4().hex, requests.Session()
    tickets, errors = [], 0
    for n in range(per_worker):
        for text in answers(worker, n):
            started = time.perf_counter()
            try:
                response = session.post(f"{url}/webhooks/rest/webhook", headers=REST_AUTH,
                                        json={"sender": sender, "message": text}, timeout=60)
                response.raise_for_status()
                replies = " ".join(m.get("text") or "" for m in response.json())
            except requests.RequestException:
                errors += 1
                break
            with lock:
                latencies.append(time.perf_counter() - started)
        else:
            match = TICKET.search(replies)
            if match:
                tickets.append(match.group())
            else:
                errors += 1
    return tickets, errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=50)
    parser.add_argument("--per-worker", type=int, default=10)
    args = parser.parse_args()
    project_model()
    latencies: list[float] = []
    lock = threading.Lock()
    # Each simulated worker files complaint after complaint as fast as the bot answers, far
    # faster than a person types: the per-sender rate limit is off to measure capacity.
    with Assistant(RATE_LIMIT_PER_MINUTE="0") as assistant:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            results = list(pool.map(lambda w: run_worker(assistant.rasa_url, w, args.per_worker,
                                                         latencies, lock), range(args.workers)))
        elapsed = time.perf_counter() - started
        db = Database(assistant.database_url)
        with db.transaction() as session:
            rows = session.scalar(select(func.count()).select_from(Complaint))
            stored = set(session.scalars(select(Complaint.ticket)))
        db.dispose()
    confirmed = [t for tickets, _ in results for t in tickets]
    errors = sum(e for _, e in results)
    missing = [t for t in confirmed if t not in stored]
    latencies.sort()
    pct = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000  # noqa: E731
    print(f"complaints confirmed: {len(confirmed)} (expected {args.workers * args.per_worker}), "
          f"distinct tickets: {len(set(confirmed))}, rows in database: {rows}, "
          f"confirmed but missing: {len(missing)}, errors: {errors}")
    print(f"time {elapsed:.1f} s: {len(confirmed) / elapsed:.2f} complaints/s, "
          f"{len(latencies) / elapsed:.1f} messages/s")
    print(f"message latency: p50 {statistics.median(latencies) * 1000:.0f} ms, "
          f"p95 {pct(0.95):.0f} ms, p99 {pct(0.99):.0f} ms")
    ok = (errors == 0 and not missing and rows == len(confirmed) == len(set(confirmed))
          == args.workers * args.per_worker)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
