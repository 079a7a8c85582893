"""Teaching the bot from the console: inbox → example or FAQ, FAQ versions, publish jobs."""
from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from bot.console.deps import services
from bot.storage.models import AuditEntry
from bot.storage.models_teaching import FaqEntry, PublishJob, TrainingExample
from bot.storage.teaching import TeachingService
from bot.teaching import job as job_module
from tests.console.conftest import post
from tests.storage.test_teaching import record_slots

SCRIPT = "<script>alert(1)</script>"


@dataclass(frozen=True)
class Found:
    sender_id: str
    text: str
    intent: str | None
    confidence: float | None
    timestamp: float


@dataclass
class FakeAnalytics:
    """Rasa's tracker as the inbox reads it: unrecognised messages after a cursor."""

    messages: list[Found]

    def unrecognised_messages(self, since_event_id: int, low_confidence: float):  # type: ignore[no-untyped-def]
        from types import SimpleNamespace

        fresh = self.messages[since_event_id:]
        return SimpleNamespace(messages=fresh, last_event_id=len(self.messages))


@pytest.fixture
def tracker(app):  # type: ignore[no-untyped-def]
    """Three untaught messages of workers who told the bot they work in 朝阳 (staff's district)."""
    now = time.time()
    fake = FakeAnalytics([Found("w1", "工会办公室周六开门吗", "nlu_fallback", 0.2, now - 60),
                          Found("w2", "加班费咋算的嘛", "overtime_pay", 0.41, now - 30),
                          Found("w3", SCRIPT, "nlu_fallback", 0.1, now)])
    with app.app_context():
        services().analytics = fake
        record_slots(services().settings.tracker_url, {sender: {"region": "朝阳"} for sender in ("w1", "w2", "w3")})
    return fake


def _rows(app, model):  # type: ignore[no-untyped-def]
    with app.app_context(), services().db.transaction() as session:
        return session.query(model).all()


def _message_id(app, text):  # type: ignore[no-untyped-def]
    with app.app_context():
        return next(m.id for m in TeachingService(services().db).inbox() if m.text == text)


def test_inbox_shows_fallbacks_and_unsure_messages_once(app, clients, tracker):
    page = clients["staff"].get("/console/teach").get_data(as_text=True)
    assert "工会办公室周六开门吗" in page and "加班费咋算的嘛" in page and "把握 41%" in page
    clients["staff"].get("/console/teach")  # a second visit imports nothing twice
    with app.app_context():
        assert len(TeachingService(services().db).inbox()) == 3


def test_worker_script_is_text_in_the_inbox(clients, tracker):
    html = clients["staff"].get("/console/teach").get_data(as_text=True)
    assert SCRIPT not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_labelling_a_message_makes_a_training_example(app, clients, tracker):
    clients["staff"].get("/console/teach")
    message_id = _message_id(app, "加班费咋算的嘛")
    response = post(clients["staff"], f"/console/teach/messages/{message_id}/label", intent="overtime_pay")
    assert "已加入训练数据" in clients["staff"].get(response.location).get_data(as_text=True)
    examples = _rows(app, TrainingExample)
    assert [(e.text, e.intent) for e in examples] == [("加班费咋算的嘛", "overtime_pay")]
    assert "加班费咋算的嘛" not in clients["staff"].get("/console/teach").get_data(as_text=True)
    assert any(e.action == "inbox.labelled" and e.actor == "staff" for e in _rows(app, AuditEntry))


def test_labelling_needs_a_known_topic(app, clients, tracker):
    clients["staff"].get("/console/teach")
    message_id = _message_id(app, "加班费咋算的嘛")
    post(clients["staff"], f"/console/teach/messages/{message_id}/label", intent="no_such_topic")
    assert _rows(app, TrainingExample) == []


def test_new_faq_from_a_message_then_edit_keeps_every_version(app, clients, tracker):
    client = clients["staff"]
    client.get("/console/teach")
    message_id = _message_id(app, "工会办公室周六开门吗")
    form = client.get(f"/console/faqs/new?from={message_id}").get_data(as_text=True)
    assert "工会办公室周六开门吗" in form
    post(client, f"/console/faqs/new?from={message_id}", title="工会办公时间",
         questions="周末工会有人吗\n工会几点下班", answer="工作日9:00-17:00，周六上午值班。", basis="本会服务公告")
    (entry,) = _rows(app, FaqEntry)
    assert entry.status == "draft" and entry.slug.startswith("staff_")
    assert entry.current.questions == ["工会办公室周六开门吗", "周末工会有人吗", "工会几点下班"]
    post(clients["supervisor"], f"/console/faqs/{entry.id}", title="工会办公时间",
         questions="周末工会有人吗", answer="工作日9:00-17:00。", basis="本会服务公告")
    page = client.get(f"/console/faqs/{entry.id}").get_data(as_text=True)
    assert "v2" in page and "v1" in page and "王主任" in page and "李干事" in page
    assert "工会办公室周六开门吗" not in client.get("/console/teach").get_data(as_text=True)
    actions = [e.action for e in _rows(app, AuditEntry)]
    assert "faq.created" in actions and "faq.edited" in actions


def test_faq_without_answer_is_refused(app, clients):
    response = post(clients["staff"], "/console/faqs/new", title="x", questions="问题", answer="")
    assert response.status_code == 400 and _rows(app, FaqEntry) == []


def test_publish_starts_one_background_job_at_a_time(app, clients, launched):
    response = post(clients["supervisor"], "/console/publish")
    assert len(launched) == 1 and "已开始重新训练" in clients["supervisor"].get(response.location).get_data(as_text=True)
    again = post(clients["admin"], "/console/publish")
    assert len(launched) == 1 and "正在进行" in clients["admin"].get(again.location).get_data(as_text=True)
    state = clients["staff"].get(f"/console/publish/{launched[0]}.json").get_json()
    assert state["status"] == "queued" and state["finished"] is False


def _approved_and_started(app):  # type: ignore[no-untyped-def]
    """A staff member's FAQ, approved by the supervisor, who then starts a publish."""
    with app.app_context():
        teaching = TeachingService(services().db)
        entry = teaching.create_faq("办公时间", ["工会几点下班"], "17:00下班。", "公告", "staff")
        teaching.approve(entry.id, 1, "supervisor")
        return teaching, entry, teaching.start_job("supervisor"), services().settings


def test_job_runs_publish_and_marks_faqs_live(app, clients, monkeypatch):
    _, entry, job, settings = _approved_and_started(app)
    seen = {}

    def fake_publish(settings, faqs, examples, progress, rasa_urls, max_drop):  # type: ignore[no-untyped-def]
        seen["faqs"] = faqs
        progress("training", 40, "training 40%")
        seen["progress"] = clients["staff"].get(f"/console/publish/{job.id}.json").get_json()
        from types import SimpleNamespace
        return SimpleNamespace(stage="live", message="live!", model=None, new=None, live=None, seconds={})

    monkeypatch.setattr(job_module, "publish", fake_publish)
    assert job_module.run_job(settings, job.id) == "live"
    assert [f.slug for f in seen["faqs"]] == [entry.slug] and seen["faqs"][0].questions == ["工会几点下班"]
    assert seen["progress"]["progress"] == 40 and seen["progress"]["status"] == "running"
    final = clients["staff"].get(f"/console/publish/{job.id}.json").get_json()
    assert final["status"] == "live" and final["finished"]
    (published,) = _rows(app, FaqEntry)
    assert published.status == "published" and published.published_version == 1


def test_a_crashing_job_is_recorded_as_failed(app, clients, monkeypatch):
    with app.app_context():
        job = TeachingService(services().db).start_job("supervisor")
        settings = services().settings

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    monkeypatch.setattr(job_module, "publish", broken)
    assert job_module.run_job(settings, job.id) == "failed"
    assert clients["staff"].get(f"/console/publish/{job.id}.json").get_json()["status"] == "failed"


# --- who may change what the bot tells every worker -------------------------------------------
def _faq(client, answer: str = "工作日9:00-17:00。") -> int:  # type: ignore[no-untyped-def]
    """A new FAQ written by ``client``'s account; its id."""
    post(client, "/console/faqs/new", title="工会办公时间", questions="工会几点下班", answer=answer, basis="本会服务公告")
    return _rows(client.application, FaqEntry)[-1].id


def _approved_by(app, faq_id: int):  # type: ignore[no-untyped-def]
    with app.app_context():
        approver = TeachingService(services().db).faq(faq_id).current.approved_by
    return approver.username if approver else None


def test_staff_publishing_is_forbidden_and_staff_see_no_publish_button(app, clients, launched):
    page = clients["staff"].get("/console/faqs").get_data(as_text=True)
    assert 'id="publish-form"' not in page and "发布由主管或管理员操作" in page
    response = post(clients["staff"], "/console/publish")
    assert response.status_code == 403 and launched == [] and _rows(app, PublishJob) == []
    assert 'id="publish-form"' in clients["supervisor"].get("/console/faqs").get_data(as_text=True)


def test_the_author_cannot_approve_their_own_text_and_nothing_is_published_until_another_does(
        app, clients, launched):
    supervisor, admin = clients["supervisor"], clients["admin"]
    faq_id = _faq(supervisor)
    page = supervisor.get("/console/faqs").get_data(as_text=True)
    assert "这是你写的改动" in page and "approve-form" not in page and 'id="publish-form"' not in page
    refused = post(supervisor, f"/console/faqs/{faq_id}/approve", version="1")
    assert "不能审核自己写的改动" in supervisor.get(refused.location).get_data(as_text=True)
    assert _approved_by(app, faq_id) is None
    blocked = post(supervisor, "/console/publish")
    assert "审核后才能发布" in supervisor.get(blocked.location).get_data(as_text=True) and launched == []

    assert "approve-form" in admin.get("/console/faqs").get_data(as_text=True)
    approved = post(admin, f"/console/faqs/{faq_id}/approve", version="1")
    assert "已批准" in admin.get(approved.location).get_data(as_text=True)
    assert _approved_by(app, faq_id) == "admin"
    (entry,) = [e for e in _rows(app, AuditEntry) if e.action == "faq.approved"]
    assert (entry.actor, entry.detail["authors"]) == ("admin", ["supervisor"])
    assert "审核人" in supervisor.get(f"/console/faqs/{faq_id}").get_data(as_text=True)
    post(supervisor, "/console/publish")
    assert len(launched) == 1


def test_a_changed_answer_waits_for_approval_shown_as_an_escaped_diff(app, clients):
    staff = clients["staff"]
    faq_id = _faq(staff)
    post(clients["admin"], f"/console/faqs/{faq_id}/approve", version="1")
    post(staff, f"/console/faqs/{faq_id}", title="工会办公时间", questions="工会几点下班",
         answer="工作日9:00-17:30，" + SCRIPT, basis="本会服务公告")
    page = clients["supervisor"].get("/console/faqs").get_data(as_text=True)
    assert SCRIPT not in page
    assert "工作日9:00-17:<ins>3</ins>0<del>0。</del><ins>，&lt;script&gt;alert(1)&lt;/script&gt;</ins>" in page
    assert "修改人：李干事" in page and "待审核" in page
    stale = post(clients["supervisor"], f"/console/faqs/{faq_id}/approve", version="1")  # read before the edit
    assert "请重新核对" in clients["supervisor"].get(stale.location).get_data(as_text=True)
    assert _approved_by(app, faq_id) is None
    staff_page = staff.get("/console/faqs").get_data(as_text=True)
    assert "这是你写的改动" in staff_page and "approve-form" not in staff_page


def test_an_answer_changed_after_the_publish_started_is_not_published(app, clients, monkeypatch):
    teaching, entry, job, settings = _approved_and_started(app)
    teaching.edit_faq(entry.id, "办公时间", ["工会几点下班"], "随时都有人。", "公告", "staff")
    trained = []
    monkeypatch.setattr(job_module, "publish", lambda *args, **kwargs: trained.append(args))
    assert job_module.run_job(settings, job.id) == "failed" and trained == []
    state = clients["supervisor"].get(f"/console/publish/{job.id}.json").get_json()
    assert state["status"] == "failed" and "办公时间" in state["message"] and "审核" in state["message"]
