"""Load the dated national figures of ``data/knowledge/national_figures.yml``.

One series today: the national urban per-capita disposable income (全国城镇居民人均可支配收入)
per year, which 工伤保险条例 第39条 multiplies by 20 for the one-off death benefit
(一次性工亡补助金) of the *following* year's deaths. Figures are data, never code; a year
without a verified row has no figure, and the bot then states the rule only.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import yaml

from bot.config import PROJECT_ROOT

DEFAULT_PATH = PROJECT_ROOT / "data" / "knowledge" / "national_figures.yml"


class NationalDataError(ValueError):
    """The national figures file is malformed; the message names the row and field."""


@dataclass(frozen=True)
class AnnualFigure:
    year: int
    yuan: Decimal
    published: dt.date
    source: str
    verified: bool
    note: str | None = None


def urban_income(year: int, path: Path = DEFAULT_PATH) -> AnnualFigure | None:
    """The verified urban per-capita disposable income of ``year``, if the table has it."""
    figure = load_urban_income(Path(path)).get(year)
    return figure if figure is not None and figure.verified else None


@lru_cache(maxsize=4)
def load_urban_income(path: Path = DEFAULT_PATH) -> dict[int, AnnualFigure]:
    """Every row of the series by year, verified or not; raise :class:`NationalDataError` on bad data."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    rows = raw.get("urban_disposable_income") if isinstance(raw, dict) else None
    if not isinstance(rows, list) or not rows:
        raise NationalDataError(f"{path}: expected a non-empty 'urban_disposable_income' list")
    figures = [_parse(i, row) for i, row in enumerate(rows)]
    by_year = {f.year: f for f in figures}
    if len(by_year) != len(figures):
        raise NationalDataError(f"{path}: a year is listed twice")
    return by_year


def _parse(index: int, row: object) -> AnnualFigure:
    where = f"urban_disposable_income #{index}"
    if not isinstance(row, dict):
        raise NationalDataError(f"{where}: expected a mapping")
    year, amount, published = row.get("year"), row.get("yuan"), row.get("published")
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
        raise NationalDataError(f"{where}: 'year' must be a year, got {year!r}")
    if isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount <= 0:
        raise NationalDataError(f"{where}: 'yuan' must be a positive number, got {amount!r}")
    if not isinstance(published, dt.date) or published.year <= year:
        raise NationalDataError(f"{where}: 'published' must be a date after the year it reports")
    source = str(row.get("source") or "").strip()
    if not source:
        raise NationalDataError(f"{where}: 'source' is required")
    if not isinstance(row.get("verified"), bool):
        raise NationalDataError(f"{where}: 'verified' must be true or false")
    return AnnualFigure(year=year, yuan=Decimal(str(amount)), published=published, source=source,
                        verified=row["verified"], note=(str(row["note"]).strip() if row.get("note") else None))
