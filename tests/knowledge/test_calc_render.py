"""Every calculation renders to complete Chinese text: templates exist, placeholders filled, basis cited."""
from __future__ import annotations

import dataclasses
import itertools
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bot.knowledge.calc import (
    Calculation, Step, TemplateError, annual_leave, arbitration_deadline, double_wages,
    economic_compensation, load_templates, maternity_leave, max_probation, medical_period,
    overtime_pay, render, render_parts, work_injury_death, work_injury_disability,
)
from bot.knowledge.calc.base import DEFAULT_TEMPLATES, shown
from bot.knowledge.calc.leave import RegionalRules
from bot.knowledge.calc.money import STATUTORY_DAYS
from bot.knowledge.topics import format_citation

TODAY = date(2025, 6, 15)
MONTHS = [0, 5.5, 12, 41, 42, 119.99, 120, 200, 240, 600]


def _grid() -> list[Calculation]:
    calcs: list[Calculation] = [double_wages(1.5, 5000)]  # past the first month, not two whole ones
    for m in MONTHS:
        calcs += [annual_leave(m), annual_leave(m, monthly_wage=8700),
                  annual_leave(m, monthly_wage=8700, unused_days=20),
                  annual_leave(m, joined_on=date(2024, 9, 1), monthly_wage=6000, unused_days=1),
                  annual_leave(m, unused_days=2),
                  max_probation(m), double_wages(m, 5000), double_wages(min(m + 0.5, 600), 5000)]
        for cause in (None, "lawful", "no_notice", "unlawful"):
            for average in (None, 10000):
                calcs += [economic_compensation(m, 40000, cause=cause, local_average_wage=average,
                                                today=TODAY),
                          economic_compensation(m, 8000, cause=cause, local_average_wage=average,
                                                today=TODAY)]
    for total, here in itertools.product(MONTHS, MONTHS):
        if here <= total:
            calcs.append(medical_period(total, here))
    for difficult, babies, extension, region in itertools.product(
            (False, True), (1, 3), (None, 0, 30), (None, "广东省")):
        calcs.append(maternity_leave(difficult=difficult, babies=babies,
                                     regional_extension_days=extension, region_name=region))
    calcs += [maternity_leave(miscarriage_months=m) for m in (2, 4, 7)]
    guangdong = RegionalRules(difficult_days=30, per_baby_days=15, miscarriage=((0, 15, 30), (4, 42, None)),
                              second_child_days=90, cites={"difficult": "广东省实施《女职工劳动保护特别规定》办法 第11条"})
    for caesarean_rule, region in itertools.product((None, True, False), (None, "广东省")):
        rules = dataclasses.replace(guangdong, caesarean_difficult=caesarean_rule)
        calcs += [maternity_leave(caesarean=True, babies=2, regional_extension_days=80, region_name=region, rules=rules),
                  maternity_leave(difficult=True, region_name=region, rules=rules),
                  *(maternity_leave(miscarriage_months=m, region_name=region, rules=rules) for m in (2, 4))]
    calcs.append(max_probation(None, open_ended=True))
    for hours in ({"workday": 10}, {"restday": 8.5}, {"holiday": 3},
                  {"workday": 36, "restday": 16, "holiday": 24}, {"workday": 0}):
        calcs.append(overtime_pay(5000, hours))
    for festival, said in itertools.product(STATUTORY_DAYS, (1, 5)):   # within the statutory days, beyond them
        calcs.append(overtime_pay(5000, days={"holiday": said}, festival=festival))
    calcs += [overtime_pay(5000, days={"workday": 1, "restday": 2.5}),
              *(overtime_pay(5000, daily=daily) for daily in (
                  {"hours": 12}, {"hours": 12, "restday": True}, {"overtime": 3}, {"hours": 8, "restday": True},
                  {"hours": 8}))]
    for known_on in (date(2024, 6, 15), date(2024, 6, 14), date(2024, 6, 16), date(2025, 1, 1),
                     date(2020, 2, 29)):
        calcs.append(arbitration_deadline(known_on, today=TODAY, month_only=known_on.day == 1))
    calcs += [work_injury_disability(grade, 6000) for grade in (None, *range(1, 11))]
    calcs += [work_injury_death(2025, income, monthly_wage=wage)
              for income in (None, 54188) for wage in (None, 7000)]
    return calcs


GRID = _grid()


def _headline(calc: Calculation) -> str:
    """The figure a worker must find in the text."""
    r = calc.result
    if calc.kind == "economic_compensation":
        return str(shown(r.get("amount", r.get("lawful"))))
    if calc.kind in ("double_wages",):
        return f"{shown(r['amount'])}元" if r["months_owed"] else "2倍"
    if calc.kind == "overtime_pay":
        figure = r["total"] if r["total"] is not None else r.get("per_workday", r.get("per_restday"))
        return "工作日没有加班费" if figure is None else f"{shown(figure)}元"
    if calc.kind == "arbitration_deadline":
        d = r["deadline"]
        return f"{d.year}年{d.month}月{d.day}日"
    if calc.kind == "work_injury":
        return f"{shown(r['lump_sum'] if r['grade'] else r['lump_sum_high'])}元"
    if calc.kind == "work_injury_death":
        return f"{shown(r['lump_sum'])}元" if r["lump_sum"] else "20倍"
    if calc.kind in ("medical_period", "max_probation"):
        return f"{r['months']}个月"
    return f"{r['days']}天"


def test_grid_covers_every_calculator():
    assert {c.kind for c in GRID} == set(load_templates().headings)


@pytest.mark.parametrize("calc", GRID, ids=lambda c: c.kind)
def test_rendered_text_is_complete_and_opens_with_the_result(calc):
    parts = render_parts(calc)
    text = render(calc)
    assert text == f"{parts.conclusion}\n{parts.details}"
    assert "{" not in text and "}" not in text
    heading = load_templates().headings[calc.kind]
    assert parts.conclusion.splitlines()[0] == f"帮你算好了（{heading}）："   # one warm line
    assert _headline(calc) in parts.conclusion                          # the figure without unfolding
    assert "依据：" not in parts.conclusion and "\n1. " not in parts.conclusion
    basis_line = parts.details.splitlines()[-1]
    assert basis_line == "依据：" + "；".join(format_citation(b) for b in calc.basis)
    shown_steps = len(parts.conclusion.splitlines()) - 1
    for number in range(1, len(calc.steps) - shown_steps + 1):            # the rest of the working, numbered
        assert f"\n{number}. " in "\n" + parts.details
    assert parts.payload() == {"details": {"label": "查看依据", "text": parts.details}}


def test_every_conclusion_fits_a_phone_screen():
    # Measured at 390×844 in Chromium: 271 characters, the figure, the next-step message and its
    # buttons take 650 of the chat's 719 pixels; 300 keeps a conclusion on one screen.
    longest = max(GRID, key=lambda c: len(render_parts(c).conclusion))
    assert len(render_parts(longest).conclusion) <= 300, render_parts(longest).conclusion


def test_every_template_is_used_by_some_calculation():
    used = {s.key for c in GRID for s in (*c.steps, *c.notes)}
    assert used == set(load_templates().lines)


def test_citations_are_law_space_article_or_a_bare_name():
    pattern = re.compile(r"^[^\s]+( 第\d+条)?$")
    for citation in {b for c in GRID for b in c.basis}:
        assert pattern.match(citation), citation


def test_render_example_in_full():
    # 劳动合同法 第47条: 3 years + exactly 6 months at 8000 -> 4 months' wage = 32000 yuan.
    parts = render_parts(economic_compensation(42, 8000, cause="lawful", local_average_wage=10000, today=TODAY))
    assert parts.conclusion == "帮你算好了（经济补偿计算）：\n经济补偿（N）：4个月 × 8000元 = 32000元。"
    assert parts.details.startswith("计算过程：\n1. 月工资应按解除或终止合同前12个月的平均工资")
    assert "合计4个月工资（N）。\n请注意：\n· " in parts.details
    assert "32000元" not in parts.details                                   # said once, first
    assert parts.details.splitlines()[-1].startswith("依据：《劳动合同法》第47条；")


def test_the_conclusion_follows_the_order_calculators_yml_gives():
    # 劳动争议调解仲裁法 第27条: known on 2024-06-16 -> the last day is 2025-06-16, one day after TODAY.
    parts = render_parts(arbitration_deadline(date(2024, 6, 16), today=TODAY))
    assert parts.conclusion.splitlines()[1:] == ["结论：今天是2025年6月15日，还剩1天。", "时效的最后一天是2025年6月16日。"]
    assert parts.details.startswith("计算过程：\n1. 申请劳动仲裁的时效是1年")


def test_a_calculation_that_is_its_conclusion_has_no_working_heading():
    parts = render_parts(max_probation(36))
    assert parts.conclusion.endswith("\n结论：合同期限36个月，3年以上，试用期最长6个月。")
    assert "计算过程" not in parts.details and parts.details.startswith("请注意：\n· ")


def test_without_a_named_conclusion_the_last_step_is_the_result(tmp_path: Path):
    data = yaml.safe_load(DEFAULT_TEMPLATES.read_text(encoding="utf-8"))
    del data["calculators"]["overtime_pay"]["conclusion"]
    path = tmp_path / "calculators.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    parts = render_parts(overtime_pay(5000, {"restday": 8}), path=path)
    assert parts.conclusion.splitlines()[1] == "结论：加班费合计459.84元。"   # 8 x 28.74 x 200 %


def test_a_conclusion_naming_a_missing_line_is_rejected(tmp_path: Path):
    data = yaml.safe_load(DEFAULT_TEMPLATES.read_text(encoding="utf-8"))
    data["calculators"]["overtime_pay"]["conclusion"] = ["totl"]
    path = tmp_path / "calculators.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(TemplateError, match="overtime_pay.*totl"):
        load_templates(path)


def test_render_reads_a_given_template_file(tmp_path: Path):
    data = yaml.safe_load(DEFAULT_TEMPLATES.read_text(encoding="utf-8"))
    data["calculators"]["max_probation"]["heading"] = "试用期"
    data["calculators"]["max_probation"]["lines"]["band_long"] = "最长{limit}个月"
    path = tmp_path / "calculators.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    text = render(max_probation(36), path=path)
    assert text.startswith("帮你算好了（试用期）：\n最长6个月\n")


def test_missing_template_or_value_is_reported_by_key():
    calc = Calculation("max_probation", {"months": 0}, (Step("max_probation.nope"),), ())
    with pytest.raises(TemplateError, match="max_probation.nope"):
        render(calc)
    calc = Calculation("max_probation", {"months": 0}, (Step("max_probation.band_short", {}),), ())
    with pytest.raises(TemplateError, match="limit|months"):
        render(calc)


def test_malformed_template_file_is_rejected(tmp_path: Path):
    path = tmp_path / "calculators.yml"
    path.write_text("calculators: []", encoding="utf-8")
    with pytest.raises(TemplateError, match="calculators"):
        load_templates(path)


@given(st.floats(0, 600), st.decimals(1, 10_000_000, places=2), st.none() | st.decimals(1, 1_000_000, places=2),
       st.sampled_from((None, "lawful", "no_notice", "unlawful")))
def test_any_compensation_renders_its_figures(service, wage, average, cause):
    calc = economic_compensation(service, wage, cause=cause, local_average_wage=average, today=TODAY)
    text = render(calc)
    assert "{" not in text
    for key in ("lawful", "no_notice", "unlawful"):
        if key in calc.result:
            assert f"{shown(calc.result[key])}元" in text
    assert isinstance(calc.result["base_wage"], Decimal)


def test_whole_yuan_are_shown_without_cents():
    text = render(economic_compensation(42, 6000))
    assert "24000元" in text and "24000.00" not in text
    assert "28.74元" in render(overtime_pay(5000, {"restday": 8}))  # cents kept where there are some
