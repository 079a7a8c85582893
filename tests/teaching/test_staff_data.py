"""Staff-made FAQs and examples become Rasa training files that Rasa itself reads."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.teaching import texts
from bot.teaching.staff_data import (
    ExampleSpec, FaqSpec, StaffDataError, domain_intents, write_staff_data,
)
from bot.training import fingerprint

HOURS = FaqSpec("office_hours", ["工会几点开门", " 工会  周末 有人吗 ", "工会几点开门"],
                "周一至周五 9:00-17:00。\n周末请打12351。", "服务中心公约第三条")
FEE = FaqSpec("membership_fee", ["会费交多少"], "工资的千分之五。", "")


def _write(project: Path, faqs: list[FaqSpec], examples: list[ExampleSpec] | None = None) -> list[Path]:
    return write_staff_data(project / "data", faqs, examples or [],
                            domain_intents(project / "domain.yml"))


def test_rasa_reads_the_faq_as_retrieval_intent_with_answer_and_basis(project):
    from rasa.shared.nlu.training_data.loading import load_data

    written = _write(project, [HOURS, FEE], [ExampleSpec("工会下班是几点", "faq/office_hours")])
    assert [p.name for p in written] == ["faq.yml"]
    data = load_data(str(project / "data" / "staff" / "faq.yml"))
    assert data.retrieval_intents == {"faq"}
    questions = {m.get("text") for m in data.intent_examples if m.get("intent_response_key") == "faq/office_hours"}
    assert questions == {"工会几点开门", "工会 周末 有人吗", "工会下班是几点"}
    answer = data.responses["utter_faq/office_hours"][0]["text"]
    assert answer == f"周一至周五 9:00-17:00。\n周末请打12351。\n{texts()['basis_label']}服务中心公约第三条"
    assert data.responses["utter_faq/membership_fee"][0]["text"] == "工资的千分之五。"


def test_examples_for_existing_intents_go_to_their_own_file(project):
    from rasa.shared.nlu.training_data.loading import load_data

    written = _write(project, [], [ExampleSpec("老板三个月没发钱", "wage_arrears"),
                                   ExampleSpec("加班不给钱 [急]", "overtime_pay")])
    assert [p.name for p in written] == ["examples.yml"]
    data = load_data(str(written[0]))
    pairs = {(m.get("text"), m.get("intent")) for m in data.intent_examples}
    # ASCII brackets would be read as an entity annotation: they are kept as text.
    assert pairs == {("老板三个月没发钱", "wage_arrears"), ("加班不给钱 ［急］", "overtime_pay")}
    assert not data.entity_examples


def test_rasa_merges_faq_into_the_domain_without_it_in_domain_yml(project):
    from rasa.shared.importers.importer import TrainingDataImporter

    assert "faq" not in domain_intents(project / "domain.yml")
    _write(project, [HOURS])
    importer = TrainingDataImporter.load_from_config(
        str(project / "config.yml"), str(project / "domain.yml"), [str(project / "data")])
    domain = importer.get_domain()
    assert "faq" in domain.retrieval_intents and "chitchat" in domain.retrieval_intents
    assert "utter_faq" in domain.action_names_or_texts
    assert "utter_faq/office_hours" in domain.responses
    rule_steps = [e.intent_name for s in importer.get_stories().story_steps for e in s.events
                  if getattr(e, "intent_name", None) == "faq"]
    assert rule_steps == ["faq"]


def test_no_staff_data_leaves_the_tree_as_it_was(project):
    before = fingerprint(project)
    _write(project, [HOURS], [ExampleSpec("老板三个月没发钱", "wage_arrears")])
    assert fingerprint(project) != before
    assert _write(project, [], []) == []
    assert not (project / "data" / "staff").exists()
    assert fingerprint(project) == before


def test_same_content_is_not_rewritten_whatever_the_order(project):
    _write(project, [HOURS, FEE])
    path = project / "data" / "staff" / "faq.yml"
    first, mtime = path.read_bytes(), path.stat().st_mtime_ns
    reordered = FaqSpec(HOURS.slug, list(reversed(HOURS.questions)), HOURS.answer, HOURS.basis)
    _write(project, [FEE, reordered])
    assert path.read_bytes() == first and path.stat().st_mtime_ns == mtime


@pytest.mark.parametrize("faq, problem", [
    (FaqSpec("Office-Hours", ["q"], "a", ""), "slug"),
    (FaqSpec("", ["q"], "a", ""), "slug"),
    (FaqSpec("hours", ["  ", ""], "a", ""), "no question"),
    (FaqSpec("hours", ["q"], " \n ", ""), "empty answer"),
])
def test_unusable_faqs_are_refused(project, faq, problem):
    with pytest.raises(StaffDataError, match=problem):
        _write(project, [faq])
    assert not (project / "data" / "staff").exists()


@pytest.mark.parametrize("example, problem", [
    (ExampleSpec("x", "no_such_topic"), "not in the domain"),
    (ExampleSpec("x", "faq/unknown"), "not among the published FAQs"),
    (ExampleSpec("x", "faq"), "topic id or faq/<slug>"),
    (ExampleSpec("x", "chitchat/ask_is_free"), "topic id or faq/<slug>"),
    (ExampleSpec("工会几点开门", "wage_arrears"), "same question"),
])
def test_examples_that_would_confuse_the_model_are_refused(project, example, problem):
    with pytest.raises(StaffDataError, match=problem):
        _write(project, [HOURS], [example])
