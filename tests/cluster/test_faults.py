"""Faults under load on the cluster (PostgreSQL, Redis, nginx, 2 Rasa + 2 action servers).

Each test runs worker conversations through nginx while it breaks something, then checks
what a worker and the union would notice: answers keep coming or say plainly that nothing
was processed, conversations keep their state, and the count check finds every message the
bot processed in the tracker store exactly once and every confirmed complaint in the
database exactly once.
"""
from __future__ import annotations

import time
import uuid

from bot.channels.common import replies
from bot.cluster.cluster import Cluster
from bot.cluster.processes import wait_for
from tests.cluster.traffic import Traffic, complaint, count_check


def nothing_lost(cluster: Cluster, traffic: Traffic) -> None:
    problems = count_check(cluster, traffic)
    assert problems == {"messages_lost": [], "messages_duplicated": [], "tickets_lost": [],
                        "tickets_duplicated": []}, problems
    assert traffic.tickets, "no complaint was filed during the test"


def until_answered(traffic: Traffic, sender: str, message: str, timeout: float = 60) -> list[str]:
    """Say ``message`` until the bot processes it (a worker trying again after "system busy")."""
    deadline = time.monotonic() + timeout
    while True:
        sent = traffic.say(sender, message)
        if sent.status == 200 and not sent.busy:
            return sent.replies
        assert time.monotonic() < deadline, f"still failing after {timeout}s: {sent}"
        time.sleep(1)


def test_killing_a_rasa_server_moves_traffic_to_the_other_and_keeps_the_conversation(healthy: Cluster):
    with Traffic(healthy) as traffic:
        worker = uuid.uuid4().hex
        for message in complaint(1)[:4]:  # halfway through the complaint form
            traffic.say(worker, message)
        time.sleep(3)
        killed_at = time.time()
        healthy.kill("rasa-1")
        time.sleep(12)
        # The form goes on where it was, on the other server: the next question is "how many workers".
        assert "多少名职工" in "".join(until_answered(traffic, worker, complaint(1)[4]))
        for message in complaint(1)[5:]:
            until_answered(traffic, worker, message)
        time.sleep(3)
    # Only requests in flight on the killed server at that moment may fail (one per worker thread).
    assert len(traffic.failed(after=killed_at)) <= traffic.workers, traffic.failed(after=killed_at)
    assert len(traffic.ok(after=killed_at + 2)) > 20
    nothing_lost(healthy, traffic)


def test_a_postgresql_restart_fails_cleanly_then_recovers_without_losing_confirmed_data(healthy: Cluster):
    worker = uuid.uuid4().hex
    with Traffic(healthy) as traffic:
        before = [traffic.say(worker, message) for message in complaint(2)[:3]]
        # The form is halfway before the fault: it asks what happened.
        assert "发生了什么" in "".join(before[-1].replies), before
        time.sleep(3)
        down_at = time.time()
        healthy.postgres.restart()
        back_at = time.time()
        time.sleep(8)
        # The conversation is intact after the restart: the form asks the next question.
        assert "什么时候开始" in "".join(until_answered(traffic, worker, complaint(2)[3]))
        time.sleep(3)
    # Nothing failed with an error page: every answer was the bot's or a plain "not processed".
    assert all(s.status == 200 for s in traffic.sent), [s for s in traffic.sent if s.status != 200]
    assert len(traffic.ok(after=back_at + 5)) > 10
    assert traffic.failed(after=back_at + 10) == []
    print(f"PostgreSQL down {back_at - down_at:.1f}s; {len(traffic.failed())} messages answered 'not processed'")
    nothing_lost(healthy, traffic)


def test_stopping_redis_gives_a_clear_answer_and_service_resumes_when_it_is_back(healthy: Cluster):
    worker = uuid.uuid4().hex
    with Traffic(healthy) as traffic:
        for message in complaint(3)[:2]:
            traffic.say(worker, message)
        healthy.redis.stop()
        time.sleep(1)
        during = traffic.say(worker, complaint(3)[2])
        assert during.status == 200 and during.busy, during
        assert replies()["system_busy"] in during.replies
        time.sleep(3)
        healthy.redis.start()
        back_at = time.time()
        # The message that was refused is sent again and the form continues from there.
        assert "发生了什么" in "".join(until_answered(traffic, worker, complaint(3)[2]))
        time.sleep(5)
    assert traffic.failed(after=back_at + 3) == []
    nothing_lost(healthy, traffic)


def test_killing_action_servers_mid_form(healthy: Cluster):
    worker = uuid.uuid4().hex
    traffic = Traffic(healthy, workers=0)
    for message in complaint(4)[:3]:
        traffic.say(worker, message)
    # One of two action servers dies: nginx sends the form's calls to the other; the worker notices nothing.
    healthy.kill("actions-1")
    assert "什么时候开始" in "".join(traffic.say(worker, complaint(4)[3]).replies)
    # Both die: the bot says plainly that nothing was done, and the form waits where it was.
    healthy.kill("actions-2")
    failed = traffic.say(worker, complaint(4)[4])
    assert failed.status == 200 and "没有完成" in "".join(failed.replies), failed
    healthy.start_process("actions-1")
    # nginx tries a failed server again after fail_timeout (5 s): until then, still "not done".
    wait_for(f"http://127.0.0.1:{healthy.layout.actions_port}/health", 30)
    assert "多少名职工" in "".join(traffic.say(worker, complaint(4)[4]).replies)
    for message in complaint(4)[5:]:
        traffic.say(worker, message)
    nothing_lost(healthy, traffic)
