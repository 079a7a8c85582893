"""Rights calculators: pure functions implementing the statute named in each docstring.

Each returns a :class:`Calculation` (result, working, citations, caveats); :func:`render_parts`
turns it into the Chinese text a worker sees (conclusion, then the details), worded by
``data/knowledge/calculators.yml``; :func:`render` gives both parts as one text.
"""
from __future__ import annotations

from bot.knowledge.calc.base import Calculation, Rendered, Step, TemplateError, load_templates, render, render_parts
from bot.knowledge.calc.contract import arbitration_deadline, max_probation
from bot.knowledge.calc.injury import work_injury_death, work_injury_disability
from bot.knowledge.calc.leave import annual_leave, maternity_leave, medical_period
from bot.knowledge.calc.money import double_wages, economic_compensation, overtime_pay

__all__ = [
    "Calculation",
    "Rendered",
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
    "render_parts",
    "work_injury_death",
    "work_injury_disability",
]
