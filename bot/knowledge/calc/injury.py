"""Work-injury benefits in figures: disability by grade, and death at work (工伤保险条例, 2010 revision)."""
from __future__ import annotations

from decimal import Decimal

from bot.knowledge.calc.base import Calculation, Number, Step, check_count, check_money, yuan

# 第35–37条: the one-off disability benefit in months of the worker's own wage, by grade.
DISABILITY_MONTHS: dict[int, int] = {1: 27, 2: 25, 3: 23, 4: 21, 5: 18, 6: 16, 7: 13, 8: 11, 9: 9, 10: 7}
# 第35条 (grades 1–4, from the fund) and 第36条 (grades 5–6, from the employer when it has no suitable job).
ALLOWANCE_PERCENT: dict[int, int] = {1: 90, 2: 85, 3: 80, 4: 75, 5: 70, 6: 60}
# 第39条: the one-off death benefit is 20 times the previous year's national urban income;
# dependants get 40 % (spouse) or 30 % (each other relative) of the wage, 10 % more when alone.
DEATH_BENEFIT_TIMES = 20
SPOUSE_PERCENT, RELATIVE_PERCENT, ALONE_EXTRA_PERCENT = 40, 30, 10
# The amounts above are those of the revision in force since 2011-01-01 (国务院令第586号).
REVISION_YEAR = 2011
REGULATION = "工伤保险条例"
APPRAISAL_BASIS = (f"{REGULATION} 第21条", f"{REGULATION} 第22条", f"{REGULATION} 第23条")


def _band(grade: int) -> str:
    return "severe" if grade <= 4 else "middle" if grade <= 6 else "light"


def _article(grade: int) -> str:
    return f"{REGULATION} 第{35 if grade <= 4 else 36 if grade <= 6 else 37}条"


def _percent(amount: Decimal, percent: int) -> Decimal:
    return yuan(amount * percent / 100)


def work_injury_disability(grade: int | None, monthly_wage: Number) -> Calculation:
    """Benefits of a worker disabled at work, by the grade of the labour-ability appraisal.

    工伤保险条例 第35条 (grades 1–4): from the fund a one-off benefit of 27 / 25 / 23 / 21 months of
    the worker's own wage, and a monthly allowance of 90 / 85 / 80 / 75 % until retirement (topped
    up to the local minimum wage by the fund; after retirement the pension, topped up to it).
    第36条 (grades 5–6): 18 / 16 months; the employer arranges suitable work, or pays 70 / 60 % a
    month when it cannot (topped up to the minimum wage by the employer); on leaving at the
    worker's request, a one-off medical and an employment benefit set by the province.
    第37条 (grades 7–10): 13 / 11 / 9 / 7 months; the same two provincial benefits when the
    contract ends or the worker leaves. 第64条: the own wage is the average monthly contribution
    wage of the 12 months before the injury, within 60–300 % of the regional average (not known
    here: a note says so). 第62条: without insurance the employer pays the same. 第21–23条: the grade
    (1 most severe, 10 least) comes from the appraisal committee.
    ``grade`` None: not appraised yet; the range from grade 10 to grade 1 is shown instead.
    Result: ``grade``, ``months``, ``lump_sum``, ``allowance_percent`` and ``monthly_allowance``
    (None for grades 7–10); for no grade ``lump_sum_low`` (grade 10) and ``lump_sum_high`` (grade 1).
    """
    wage = check_money(monthly_wage, "monthly_wage")
    if grade is None:
        return _not_appraised(wage)
    check_count(grade, "grade", 1, 10)
    months, band = DISABILITY_MONTHS[grade], _band(grade)
    lump_sum = yuan(months * wage)
    percent = ALLOWANCE_PERCENT.get(grade)
    allowance = _percent(wage, percent) if percent else None
    values = {"grade": grade, "months": months, "wage": wage, "lump_sum": lump_sum,
              "percent": percent, "allowance": allowance}
    steps = [Step(f"work_injury.conclusion_{band}", values), Step("work_injury.lump_sum", values)]
    if band != "light":
        steps.append(Step(f"work_injury.allowance_{band}", values))
    if band != "severe":
        steps.append(Step(f"work_injury.leaving_{band}"))
    result = {"grade": grade, "months": months, "lump_sum": lump_sum,
              "allowance_percent": percent, "monthly_allowance": allowance}
    basis = (_article(grade), f"{REGULATION} 第64条", f"{REGULATION} 第62条", *APPRAISAL_BASIS)
    return Calculation("work_injury", result, tuple(steps), basis, _notes(wage))


def _not_appraised(wage: Decimal) -> Calculation:
    low, high = yuan(DISABILITY_MONTHS[10] * wage), yuan(DISABILITY_MONTHS[1] * wage)
    steps = (Step("work_injury.conclusion_not_appraised", {"wage": wage, "low": low, "high": high}),
             Step("work_injury.months_by_grade"), Step("work_injury.allowance_by_grade"),
             Step("work_injury.leaving_by_grade"))
    result = {"grade": None, "lump_sum_low": low, "lump_sum_high": high}
    basis = (f"{REGULATION} 第35条", f"{REGULATION} 第36条", f"{REGULATION} 第37条", f"{REGULATION} 第64条",
             f"{REGULATION} 第62条", *APPRAISAL_BASIS)
    return Calculation("work_injury", result, steps, basis, _notes(wage))


def _notes(wage: Decimal) -> tuple[Step, ...]:
    return (Step("work_injury.wage_definition", {"wage": wage}), Step("work_injury.appraisal"),
            Step("work_injury.no_insurance"))


def work_injury_death(year: int, urban_income: Number | None, *, monthly_wage: Number | None = None) -> Calculation:
    """Benefits of the close relatives of a worker who died at work (工伤保险条例 第39条).

    - 丧葬补助金: 6 months of the region's previous-year average monthly wage (a regional figure
      this project does not hold: stated as the rule);
    - 供养亲属抚恤金: monthly, to relatives the worker mainly supported who cannot work: spouse 40 %,
      each other relative 30 % of the worker's own wage, 10 % more for an old person or an orphan
      left alone; together at most the worker's wage;
    - 一次性工亡补助金: 20 × the national urban per-capita disposable income of the year before
      the death (``urban_income``; None when this project has no verified figure for that year).
    第39条 第2、3款: a death within the paid treatment period gets all three; a worker of grade 1–4
    who dies after it, the first two only (a note says so). 第17条: all of it needs the work-injury
    determination (the employer applies within 30 days, the relatives within 1 year). 第62条:
    without insurance the employer pays. ``year``: of the death, from 2011 (the amounts of the revision in force since then).
    Result: ``year``, ``income_year``, ``lump_sum`` (None without a figure) and, with a wage,
    the monthly ``spouse``, ``relative`` and ``alone`` amounts.
    """
    check_count(year, "year", REVISION_YEAR, 2100)
    values: dict[str, object] = {"year": year, "income_year": year - 1}
    result: dict[str, object] = {"year": year, "income_year": year - 1, "lump_sum": None}
    if urban_income is None:
        steps = [Step("work_injury_death.conclusion_no_figure", values)]
    else:
        income = check_money(urban_income, "urban_income")
        lump_sum = yuan(income * DEATH_BENEFIT_TIMES)
        values.update(income=income, lump_sum=lump_sum)
        result["lump_sum"] = lump_sum
        steps = [Step("work_injury_death.conclusion", values), Step("work_injury_death.lump_sum", values)]
    steps.append(Step("work_injury_death.funeral"))
    notes = [Step("work_injury_death.determination"), Step("work_injury_death.which_year", values),
             Step("work_injury_death.later_death")]
    basis = [f"{REGULATION} 第39条", f"{REGULATION} 第17条", f"{REGULATION} 第62条"]
    if monthly_wage is None:
        steps.append(Step("work_injury_death.pension"))
    else:
        wage = check_money(monthly_wage, "monthly_wage")
        shares = {"spouse": _percent(wage, SPOUSE_PERCENT), "relative": _percent(wage, RELATIVE_PERCENT),
                  "alone": _percent(wage, RELATIVE_PERCENT + ALONE_EXTRA_PERCENT)}
        steps.append(Step("work_injury_death.pension_amounts", {"wage": wage, **shares}))
        result.update(shares)
        notes.append(Step("work_injury.wage_definition", {"wage": wage}))
        basis.append(f"{REGULATION} 第64条")
    notes.append(Step("work_injury.no_insurance"))
    return Calculation("work_injury_death", result, tuple(steps), tuple(basis), tuple(notes))
