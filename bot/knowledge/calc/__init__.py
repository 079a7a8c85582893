"""Rights calculators: pure functions implementing the statute named in each docstring.

Each returns a :class:`Calculation` (result, working, citations, caveats); :func:`render`
turns it into the Chinese text a worker sees, worded by ``data/knowledge/calculators.yml``.
"""
from __future__ import annotations

from bot.knowledge.calc.base import Calculation, Step, TemplateError, load_templates, render
from bot.knowledge.calc.contract import arbitration_deadline, max_probation
from bot.knowledge.calc.injury import work_injury_death, work_injury_disability
from bot.knowledge.calc.leave import annual_leave, maternity_leave, medical_period
from bot.knowledge.calc.money import double_wages, economic_compensation, overtime_pay

__all__ = [
    "Calculation",
    "Step",
    "TemplateError",
    "annual_leave",
    "arbitration_deadline",
    "double_wages",
    "economic_compensation",
    "load_templates",
    "maternity_leave",
    "max_probation",
    "medical_period",
    "overtime_pay",
    "render",
    "work_injury_death",
    "work_injury_disability",
]
