"""WeChat Official Account load: signed messages from many users, with WeChat's retries.

Default: 50 simulated users send 4 questions each (200 messages) to the real assistant
(Rasa + action server, SQLite) through /webhooks/wechat/webhook, built and signed with
wechatpy; answers that miss the passive window arrive at a fake WeChat API. For a share
of the messages (--retry-share) the first HTTP answer is "lost" and the message is sent
again, as WeChat does when it gets nothing within 5 s. Prints the webhook's answer-time
percentiles (p95 must stay under 4.5 s) and the exactly-once checks: every message got
exactly one answer, and Rasa's trackers hold each message exactly once.

    .venv/bin/python bench/wechat_load.py [--users 50] [--per-user 4] [--retry-share 0.3] [--reply-seconds 4]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import RASA_TOKEN, Assistant, project_model  # noqa: E402
from bot.storage.channels import channel_sender_id  # noqa: E402
from bot.testing.wechat import FakeWeChatApi, WeChatServerSim  # noqa: E402

# (Servers refuse secrets under 32 characters; WeChat's Token has at most 32.)
APP_ID, SECRET, TOKEN = "wxbench000000001", "bench-wechat-app-secret-0123456789", "benchWechatToken0123456789abcdef"
SENDER_KEY = "bench-sender-id-key-0123456789abcdef"
QUESTIONS = ["公司拖欠工资两个月了怎么办", "加班费是怎么计算的", "年休假一年有几天", "试用期最长可以多久",
             "被公司辞退有补偿吗", "公司不给交社保怎么办", "上班路上出车祸算工伤吗", "产假有多少天",
             "没签劳动合同能要双倍工资吗", "劳动仲裁要多久"]
P95_LIMIT_S = 4.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--per-user", type=int, default=4)
    parser.add_argument("--retry-share", type=float, default=0.3)
    parser.add_argument("--reply-seconds", type=float, default=4.0,
                        help="passive window (WECHAT_REPLY_SECONDS); lower it to push answers to the API")
    args = parser.parse_args()
    project_model()
    api = FakeWeChatApi(APP_ID, SECRET).start()
    env = dict(WECHAT_TOKEN=TOKEN, WECHAT_APP_ID=APP_ID, WECHAT_APP_SECRET=SECRET, WECHAT_AES_KEY="",
               WECHAT_API_BASE=api.url, WECOM_TOKEN="", WECHAT_REPLY_SECONDS=str(args.reply_seconds),
               SENDER_KEY=SENDER_KEY)
    with Assistant(**env) as assistant:
        sim = WeChatServerSim(f"{assistant.rasa_url}/webhooks/wechat/webhook", TOKEN, APP_ID)
        result = Load(sim, api, args.retry_share).run(args.users, args.per_user)
        time.sleep(3)  # anything sent twice would arrive now
        processed = count_processed(assistant, result.users)
    api.stop()
    return report(result, api, processed, args.users * args.per_user)


class Load:
    def __init__(self, sim: WeChatServerSim, api: FakeWeChatApi, retry_share: float) -> None:
        self.sim, self.api, self.retry_share = sim, api, retry_share
        self.latencies: list[float] = []
        self.answers: dict[str, int] = {}  # message id → answers the user saw
        self.api_answers = 0
        self.retried = 0
        self.errors = 0
        self.users: list[str] = []
        self._lock = threading.Lock()

    def run(self, users: int, per_user: int) -> "Load":
        self.users = [f"o{uuid.uuid4().hex[:27]}" for _ in range(users)]
        started = time.monotonic()
        with ThreadPoolExecutor(users) as pool:
            list(pool.map(lambda u: self.user(u, per_user), self.users))
        self.elapsed = time.monotonic() - started
        return self

    def post(self, xml: str) -> requests.Response:
        started = time.monotonic()
        response = self.sim.post(xml, timeout=30)
        with self._lock:
            self.latencies.append(time.monotonic() - started)
        return response

    def user(self, openid: str, per_user: int) -> None:
        rng = random.Random(openid)
        for n in range(per_user):
            msg_id = self.sim.new_msg_id()
            xml = self.sim.text(openid, rng.choice(QUESTIONS), msg_id=msg_id)
            before = len(self.api.messages_to(openid))
            try:
                response = self.post(xml)
                if rng.random() < self.retry_share:  # the first answer is lost: WeChat retries
                    with self._lock:
                        self.retried += 1
                    response = self.post(xml)
                passive = self.sim.reply_text(response.text) if response.ok else None
            except requests.RequestException:
                passive = None
                with self._lock:
                    self.errors += 1
            seen = 1 if passive else 0
            if not passive:  # wait for the customer-service message
                deadline = time.monotonic() + 30
                while len(self.api.messages_to(openid)) == before and time.monotonic() < deadline:
                    time.sleep(0.1)
                seen += len(self.api.messages_to(openid)) - before
                with self._lock:
                    self.api_answers += 1
            with self._lock:
                self.answers[f"{openid}:{msg_id}"] = seen


def count_processed(assistant: Assistant, users: list[str]) -> dict[str, int]:
    """User messages in each simulated user's Rasa tracker."""
    counts = {}
    for openid in users:
        events = requests.get(f"{assistant.rasa_url}/conversations/{channel_sender_id('wechat', openid, SENDER_KEY)}/tracker",
                              params={"token": RASA_TOKEN}, timeout=30).json().get("events", [])
        counts[openid] = sum(1 for e in events if e.get("event") == "user")
    return counts


def report(load: Load, api: FakeWeChatApi, processed: dict[str, int], expected: int) -> int:
    lat = sorted(load.latencies)
    p50, p95 = statistics.median(lat), lat[int(0.95 * (len(lat) - 1))]
    once = sum(1 for seen in load.answers.values() if seen == 1)
    twice = sum(1 for seen in load.answers.values() if seen > 1)
    missing = sum(1 for seen in load.answers.values() if seen == 0)
    late = sum(processed.values()) - expected
    print(f"messages: {len(load.answers)} from {len(load.users)} users, {load.retried} retried by 'WeChat', "
          f"{len(lat)} webhook requests in {load.elapsed:.1f} s")
    print(f"webhook answer time: p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms "
          f"(limit p95 < {P95_LIMIT_S} s)")
    print(f"answers: exactly once {once}, more than once {twice}, none {missing}; "
          f"via customer-service API {load.api_answers}; token fetches {api.token_fetches}; "
          f"request errors {load.errors}")
    print(f"processed by Rasa: {sum(processed.values())} user messages for {expected} sent "
          f"({'none twice' if late == 0 else f'{late:+d} off'})")
    ok = once == expected and sum(processed.values()) == expected and p95 < P95_LIMIT_S
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
