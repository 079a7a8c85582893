"""The dated national figures: each row sourced and dated, unverified rows never used."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bot.knowledge.national import DEFAULT_PATH, NationalDataError, load_urban_income, urban_income

ROW = """  - year: 2030
    yuan: 70000
    published: 2031-01-17
    source: 国家统计局
    verified: {verified}
"""


def table(tmp_path: Path, rows: str) -> Path:
    path = tmp_path / "national_figures.yml"
    path.write_text(f"version: 1\nurban_disposable_income:\n{rows}", encoding="utf-8")
    return path


def test_the_2024_figure_for_deaths_in_2025():
    # 国家统计局: 2024年全国城镇居民人均可支配收入54188元.
    figure = urban_income(2024)
    assert figure is not None and figure.yuan == Decimal(54188)
    assert "国家统计局" in figure.source and figure.published.year == 2025


def test_every_row_is_dated_and_sourced():
    rows = load_urban_income(DEFAULT_PATH)
    assert rows
    for year, figure in rows.items():
        assert figure.year == year and figure.published.year == year + 1
        assert "国家统计局" in figure.source and figure.note


def test_a_year_not_in_the_table_has_no_figure():
    assert urban_income(2019) is None


def test_an_unverified_row_is_never_used(tmp_path: Path):
    assert urban_income(2030, table(tmp_path, ROW.format(verified="false"))) is None
    other = tmp_path / "other"
    other.mkdir()
    assert urban_income(2030, table(other, ROW.format(verified="true"))).yuan == Decimal(70000)


@pytest.mark.parametrize("rows", [
    ROW.format(verified="true").replace("source: 国家统计局", "source: ''"),
    ROW.format(verified="true").replace("2031-01-17", "2030-06-01"),     # published before the year ended
    ROW.format(verified="true").replace("yuan: 70000", "yuan: -1"),
    ROW.format(verified="maybe"),
    ROW.format(verified="true") * 2,                                     # one year twice
    "  []\n",
])
def test_malformed_rows_are_rejected(tmp_path: Path, rows: str):
    with pytest.raises(NationalDataError):
        load_urban_income(table(tmp_path, rows))
