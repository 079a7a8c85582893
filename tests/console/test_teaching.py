"""Teaching the bot from the console: inbox → example or FAQ, FAQ versions, publish jobs."""
from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.console.deps import services
from bot.knowledge.topics import load_topics
from bot.storage.models import AuditEntry
from bot.storage.models_teaching import FaqEntry, PublishJob, TrainingExample
from bot.storage.teaching import TeachingService
from bot.teaching import job as job_module
from tests.console.conftest import console_in_chromium, post
from tests.storage.test_teaching import record_slots

SCRIPT = "<script>alert(1)</script>"
QUESTIONS = "工会几点下班\n工会几点上班\n工会办公时间是几点到几点"
ANSWER = "工作日9:00-17:00，周六上午9:00-12:00有人值班。"


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
        return SimpleNamespace(messages=fresh, last_event_id=len(self.messages), ask_backs=[])


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


def test_the_topic_a_worker_chose_when_asked_back_is_confirmed_with_one_click(app, clients):
    """Rasa's real tracker store: a worker's unclear message, the ask-back, the button they pressed."""
    at = time.time() - 60
    buttons = {"custom": {"clarify": ["work_injury", "wage_arrears"]},
               "buttons": [{"title": "工伤认定与待遇", "payload": "/work_injury"}]}
    events = {"w-chose": [UserUttered("厂里那个事情怎么弄", intent={"name": "nlu_fallback", "confidence": 0.3},
                                      timestamp=at),
                          BotUttered("你想问的是哪一个？", data=buttons, timestamp=at + 1),
                          UserUttered("/wage_arrears", intent={"name": "wage_arrears", "confidence": 1.0},
                                      timestamp=at + 9)],
              "w-none": [UserUttered("那个那个", intent={"name": "nlu_fallback", "confidence": 0.3}, timestamp=at),
                         BotUttered("你想问的是哪一个？", data=buttons, timestamp=at + 1),
                         UserUttered("/out_of_scope", intent={"name": "out_of_scope", "confidence": 1.0},
                                     timestamp=at + 9)]}
    with app.app_context():
        store = SQLTrackerStore(domain=Domain.empty(), host=services().settings.tracker_url)
        for sender, conversation in events.items():
            asyncio.run(store.save(DialogueStateTracker.from_events(sender, conversation)))
        store.engine.dispose()
        titles = {t.id: t.title for t in load_topics()}
    page = clients["admin"].get("/console/teach").get_data(as_text=True)
    row = re.search(r'<tr data-id="(\d+)">((?:(?!</tr>).)*厂里那个事情怎么弄.*?)</tr>', page, re.S)
    assert row and f'<strong class="suggested">{titles["wage_arrears"]}</strong>' in row.group(2)
    assert "确认</button>" in row.group(2)
    other = re.search(r'<tr data-id="\d+">((?:(?!</tr>).)*那个那个.*?)</tr>', page, re.S)
    assert other and "确认</button>" not in other.group(1) and "都不是" in other.group(1)

    response = post(clients["admin"], f"/console/teach/messages/{row.group(1)}/confirm")
    assert "已加入训练数据" in clients["admin"].get(response.location).get_data(as_text=True)
    assert [(e.text, e.intent) for e in _rows(app, TrainingExample)] == [("厂里那个事情怎么弄", "wage_arrears")]
    assert [(e.action, e.actor) for e in _rows(app, AuditEntry) if e.action.startswith("inbox.")] == [
        ("inbox.confirmed", "admin")]


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
         questions="工会办公室周六开门吗\n周末工会有人吗\n工会几点下班", answer=ANSWER, basis="本会服务公告")
    (entry,) = _rows(app, FaqEntry)
    assert entry.status == "draft" and entry.slug.startswith("staff_")
    assert entry.current.questions == ["工会办公室周六开门吗", "周末工会有人吗", "工会几点下班"]
    post(clients["supervisor"], f"/console/faqs/{entry.id}", title="工会办公时间",
         questions=QUESTIONS, answer=ANSWER + "节假日不值班。", basis="本会服务公告")
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
def _faq(client, answer: str = ANSWER) -> int:  # type: ignore[no-untyped-def]
    """A new FAQ written by ``client``'s account; its id."""
    post(client, "/console/faqs/new", title="工会办公时间", questions=QUESTIONS, answer=answer, basis="本会服务公告")
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
    post(staff, f"/console/faqs/{faq_id}", title="工会办公时间", questions=QUESTIONS,
         answer=ANSWER.replace("17:00", "17:30") + SCRIPT, basis="本会服务公告")
    page = clients["supervisor"].get("/console/faqs").get_data(as_text=True)
    assert SCRIPT not in page
    assert "工作日9:00-17:<del>0</del><ins>3</ins>0，周六上午9:00-12:00有人值班。<ins>&lt;script&gt;alert(1)&lt;/script&gt;</ins>" in page
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


def test_the_inbox_masks_phone_and_id_numbers_and_names_guesses_as_topics(app, clients):
    now = time.time()
    with app.app_context():
        entry = TeachingService(services().db).create_faq("工会办公时间", ["工会几点下班"], "工作日9:00-17:00。", "",
                                                          "staff")
        services().analytics = FakeAnalytics([
            Found("w1", "我电话13812345678，身份证110105199003071234，厂里不给加班费", "overtime_pay", 0.4, now - 3),
            Found("w2", "六千五", "inform", 0.45, now - 2),
            Found("w3", "周六有人吗", f"faq/{entry.slug}", 0.3, now - 1),
            Found("w4", "帮我算", "calculate", 0.2, now)])
        record_slots(services().settings.tracker_url, {s: {"region": "朝阳"} for s in ("w1", "w2", "w3", "w4")})
        titles = {t.id: t.title for t in load_topics()}
    page = clients["staff"].get("/console/teach").get_data(as_text=True)
    assert "13812345678" not in page and "110105199003071234" not in page
    assert "我电话138****5678，身份证110105**********34，厂里不给加班费" in page
    guesses = re.findall(r'<td class="guess">([^<]*)', page)
    assert [g.strip() for g in guesses] == ["要算一算（如加班费）", "自建问答：工会办公时间", "回答机器人的提问（数字、地点等）",
                                            titles["overtime_pay"]]
    assert not {"inform", "calculate", f"faq/{entry.slug}", "overtime_pay"} & {g.strip() for g in guesses}
    with app.app_context():  # what may become training data keeps no number either
        stored = next(m for m in TeachingService(services().db).inbox() if m.sender_id == "w1")
    assert "13812345678" not in stored.text
    message_id = stored.id
    form = clients["staff"].get(f"/console/faqs/new?from={message_id}").get_data(as_text=True)
    assert "13812345678" not in form and "138****5678" in form


# --- the FAQ editor's rules, the live model tried, the answer previewed ------------------------
def test_an_faq_needs_three_ways_of_asking_and_an_answer_of_twenty_characters(app, clients):
    typed = {"title": "工会办公时间", "questions": "工会几点下班\n工会几点下班\n工会几点上班", "answer": "见公告。",
             "basis": "本会服务公告"}
    response = post(clients["staff"], "/console/faqs/new", **typed)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and _rows(app, FaqEntry) == []
    assert "请至少写 3 种不同的问法（每行一种），现在只有 2 种" in html
    assert "回答至少要 20 个字（不算空格），现在只有 4 个字" in html
    assert 'value="工会办公时间"' in html and "工会几点下班\n工会几点下班\n工会几点上班</textarea>" in html
    assert "见公告。</textarea>" in html and 'value="本会服务公告"' in html  # what was typed stays

    saved = post(clients["staff"], "/console/faqs/new", **{**typed, "questions": QUESTIONS, "answer": ANSWER})
    assert saved.status_code == 302 and len(_rows(app, FaqEntry)) == 1
    faq_id = _rows(app, FaqEntry)[0].id
    edited = post(clients["staff"], f"/console/faqs/{faq_id}", **{**typed, "questions": QUESTIONS})
    assert edited.status_code == 400 and "回答至少要 20 个字" in edited.get_data(as_text=True)
    assert len(_rows(app, FaqEntry)[0].versions) == 1


def test_a_sentence_is_tried_on_the_live_model_and_the_answer_previewed(app, clients, rasa):
    faq_id = _faq(clients["staff"])
    with app.app_context():
        slug = TeachingService(services().db).faq(faq_id).slug
        titles = {t.id: t.title for t in load_topics()}
    rasa.parses["周六工会有人吗"] = {
        "intent": {"name": "faq", "confidence": 0.81},
        "intent_ranking": [{"name": "faq", "confidence": 0.81}, {"name": "annual_leave", "confidence": 0.1},
                           {"name": "inform", "confidence": 0.05}],
        "response_selector": {"default": {"response": {"intent_response_key": f"faq/{slug}", "confidence": 0.9}}}}
    tried = post(clients["staff"], "/console/faqs/try", sentence=" 周六工会有人吗 ", answer=ANSWER + "\n  电话12351。 ",
                 basis="本会服务公告").get_json()
    assert tried["preview"] == ANSWER + "\n电话12351。\n依据：本会服务公告"
    understood = tried["understood"]
    assert (understood["label"], understood["percent"], understood["understood"]) == ("自建问答：工会办公时间", "81%", True)
    assert [o["label"] for o in understood["others"]] == [titles["annual_leave"], "回答机器人的提问（数字、地点等）"]
    assert ("parse", "", "周六工会有人吗") in rasa.calls

    unknown = post(clients["staff"], "/console/faqs/try", sentence="疗休养怎么报名", answer="", basis="").get_json()
    assert unknown["understood"]["understood"] is False and unknown["understood"]["label"] == "没听懂"
    assert unknown["preview"] == ""

    rasa.down = True
    down = post(clients["staff"], "/console/faqs/try", sentence="周六工会有人吗", answer=ANSWER, basis="")
    assert down.status_code == 503 and "机器人服务暂时无法连接" in down.get_json()["error"]
    assert down.get_json()["preview"] == ANSWER
    assert post(clients["staff"], "/console/faqs/try", sentence="x" * 501).status_code == 400


@pytest.mark.parametrize("who", ["anonymous", "staff", "haidian", "supervisor", "admin"])
def test_every_units_staff_may_try_a_sentence_and_nobody_else(app, clients, rasa, who):
    """The live model and the FAQs are the whole organisation's: any unit's staff may try them."""
    response = post(clients[who], "/console/faqs/try", sentence="周六工会有人吗", answer=ANSWER)
    if who == "anonymous":
        assert response.status_code == 302 and "/console/login" in response.location
        assert [c for c in rasa.calls if c[0] == "parse"] == []
    else:
        assert response.status_code == 200 and response.get_json()["preview"] == ANSWER


@pytest.mark.browser
def test_the_editor_previews_the_answer_while_typing_and_tries_a_sentence(app, rasa):
    rasa.parses["年假怎么休"] = {"intent": {"name": "annual_leave", "confidence": 0.93},
                                  "intent_ranking": [{"name": "annual_leave", "confidence": 0.93}]}
    title = {t.id: t.title for t in load_topics()}["annual_leave"]
    with console_in_chromium(app, "staff") as (page, errors):
        page.goto(page.url.replace("/queue", "/faqs/new"))
        assert page.locator("#faq-preview").is_hidden() and page.locator("#faq-preview-empty").is_visible()
        page.fill("#answer", ANSWER + SCRIPT)
        page.fill("#basis", "本会服务公告")
        page.wait_for_function("() => document.getElementById('faq-preview').textContent.includes('依据：')")
        assert page.locator("#faq-preview").inner_text() == ANSWER + SCRIPT + "\n依据：本会服务公告"
        page.fill("#try-sentence", "年假怎么休")
        page.click("#try-form button")
        page.wait_for_selector("#try-result .try-label")
        assert page.locator("#try-result .try-label").inner_text() == title
        assert "把握 93%" in page.locator("#try-result").inner_text()
        assert page.locator("#title").input_value() == ""  # trying saved nothing and left the form as it was
        assert errors == [] and _rows(app, FaqEntry) == []
