"""Shared pieces of the rights calculators: the working shown to a worker, its rendering, input checks.

A calculator returns a :class:`Calculation`: the machine-readable result plus the
working as :class:`Step` s. A step holds a template key and its values only; the
Chinese wording lives in ``data/knowledge/calculators.yml`` and :func:`render`
puts the two together, conclusion first: a warm line and the steps calculators.yml names as
the calculator's ``conclusion``, then the details (the rest of the working, the notes, the
citations) that channels fold away (web chat: "查看依据"; WeChat: reply "依据").
"""
from __future__ import annotations

import string
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import yaml

from bot.config import PROJECT_ROOT
from bot.knowledge.topics import format_citation

DEFAULT_TEMPLATES = PROJECT_ROOT / "data" / "knowledge" / "calculators.yml"
MAX_MONTHS = Decimal(600)
MAX_MONEY = Decimal(10_000_000)
CENT = Decimal("0.01")
Number = int | float | Decimal


@dataclass(frozen=True)
class Step:
    """One line of the working: a template key of calculators.yml and its placeholders."""

    key: str
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Calculation:
    """A calculator's answer: result, working (last step states the result), citations, caveats."""

    kind: str
    result: Mapping[str, Any]
    steps: tuple[Step, ...]
    basis: tuple[str, ...]
    notes: tuple[Step, ...] = ()


class TemplateError(KeyError):
    """calculators.yml lacks a template, or a template names a value the step does not carry."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Templates:
    headings: Mapping[str, str]
    lines: Mapping[str, str]
    labels: Mapping[str, str]
    # Per calculator, the line names that state its result, in the order they are shown.
    conclusions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Rendered:
    """A calculation in Chinese: what the worker reads first, and the details behind it."""

    conclusion: str
    details: str
    details_label: str = ""

    @property
    def text(self) -> str:
        """Both parts in one text, conclusion first (a channel that cannot fold shows this)."""
        return f"{self.conclusion}\n{self.details}" if self.details else self.conclusion

    def payload(self) -> dict[str, Any]:
        """The custom payload that carries the details to channels that fold them."""
        return {"details": {"label": self.details_label, "text": self.details}} if self.details else {}


@lru_cache(maxsize=8)
def load_templates(path: Path = DEFAULT_TEMPLATES) -> Templates:
    """Read calculators.yml once per path: per calculator a heading and its line templates."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not isinstance(raw.get("calculators"), dict):
        raise TemplateError(f"{path}: expected a mapping with a 'calculators' mapping")
    headings: dict[str, str] = {}
    lines: dict[str, str] = {}
    conclusions: dict[str, tuple[str, ...]] = {}
    for kind, block in raw["calculators"].items():
        if not isinstance(block, dict) or not isinstance(block.get("lines"), dict):
            raise TemplateError(f"{path}: calculator {kind!r} needs a 'lines' mapping")
        if block.get("heading"):
            headings[kind] = str(block["heading"]).strip()
        for name, text in block["lines"].items():
            lines[f"{kind}.{name}"] = str(text).strip()
        names = tuple(f"{kind}.{name}" for name in block.get("conclusion") or ())
        unknown = [name for name in names if name not in lines]
        if unknown:
            raise TemplateError(f"{path}: conclusion of {kind!r} names lines it lacks: {unknown}")
        conclusions[kind] = names
    return Templates(headings=headings, lines=lines, labels=dict(raw.get("labels") or {}),
                     conclusions=conclusions)


def template_fields(template: str) -> set[str]:
    """The top-level placeholder names a template uses (``{deadline.year}`` -> ``deadline``)."""
    names = set()
    for _, field_name, _, _ in string.Formatter().parse(template):
        if field_name:
            names.add(field_name.split(".")[0].split("[")[0])
    return names


def render_line(step: Step, templates: Templates) -> str:
    """One step or note in Chinese; raise :class:`TemplateError` on a missing key or value."""
    try:
        template = templates.lines[step.key]
    except KeyError:
        raise TemplateError(f"no template {step.key!r} in calculators.yml") from None
    missing = template_fields(template) - set(step.values)
    if missing:
        raise TemplateError(f"template {step.key!r} needs {sorted(missing)}")
    return template.format(**{name: shown(value) for name, value in step.values.items()})


def shown(value: Any) -> Any:
    """Whole yuan without cents (24000, not 24000.00); other values as they are."""
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value)
    return value


def render(calc: Calculation, path: Path | None = None) -> str:
    """The whole answer in one text: conclusion, then the details (see :func:`render_parts`)."""
    return render_parts(calc, path).text


def render_parts(calc: Calculation, path: Path | None = None) -> Rendered:
    """Conclusion first: a warm line naming the calculation and the steps that state its result
    (calculators.yml ``conclusion``, in that order; else the last step). Details: the other steps
    numbered, the notes, then the citations joined by '；'."""
    templates = load_templates(path or DEFAULT_TEMPLATES)
    labels = templates.labels
    heading = templates.headings.get(calc.kind)
    if heading is None:
        raise TemplateError(f"no heading for calculator {calc.kind!r} in calculators.yml")
    order = templates.conclusions.get(calc.kind, ())
    concluding = sorted((s for s in calc.steps if s.key in order), key=lambda s: order.index(s.key))
    if not concluding and calc.steps:
        concluding = [calc.steps[-1]]
    working = [s for s in calc.steps if not any(s is c for c in concluding)]
    conclusion = [labels.get("warm", "{heading}").format(heading=heading)]
    conclusion += [render_line(s, templates) for s in concluding]
    details = [labels.get("working", "")] if working else []
    details += [f"{i}. {render_line(s, templates)}" for i, s in enumerate(working, start=1)]
    if calc.notes:
        details.append(labels.get("notes", ""))
        details += [f"{labels.get('bullet', '- ')}{render_line(n, templates)}" for n in calc.notes]
    citations = "；".join(format_citation(b) for b in calc.basis)
    details.append(f"{labels.get('basis', '')}{citations}")
    return Rendered("\n".join(line for line in conclusion if line), "\n".join(line for line in details if line),
                    labels.get("details", ""))


# ---- input checks and number helpers -------------------------------------------------


def to_decimal(value: object, name: str) -> Decimal:
    """A finite, non-negative number as Decimal (floats via their shortest repr)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if number < 0:
        raise ValueError(f"{name} must not be negative, got {value!r}")
    return number


def check_months(value: object, name: str) -> Decimal:
    """A duration in months (0..600), to 0.01 of a month."""
    months = to_decimal(value, name)
    if months > MAX_MONTHS:
        raise ValueError(f"{name} of {value!r} months is beyond {MAX_MONTHS} months (50 years)")
    return months.quantize(CENT, ROUND_HALF_UP)


def check_money(value: object, name: str) -> Decimal:
    """A positive amount of yuan up to 10,000,000, to the cent."""
    amount = to_decimal(value, name)
    if amount <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    if amount > MAX_MONEY:
        raise ValueError(f"{name} of {value!r} yuan is beyond {MAX_MONEY} yuan")
    return yuan(amount)


def check_count(value: object, name: str, low: int, high: int) -> int:
    """A whole number between ``low`` and ``high`` inclusive."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value!r}")
    return value


def yuan(amount: Decimal) -> Decimal:
    """Money rounded to the cent, half up (how pay slips round)."""
    return amount.quantize(CENT, ROUND_HALF_UP)


def plain(number: Decimal | int) -> int | Decimal:
    """A count for display: ``Decimal('6.00')`` -> ``6``, ``Decimal('6.50')`` -> ``Decimal('6.5')``."""
    number = Decimal(number)
    if number == number.to_integral_value():
        return int(number)
    return number.normalize()
