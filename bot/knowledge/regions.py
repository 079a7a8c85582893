"""Load the regional table ``data/knowledge/regions.yml`` and resolve place names to provinces.

The table holds, for each of the 31 province-level regions of mainland China, its place names,
its current minimum wage (最低工资规定 第10条: adjusted at least every two years, so figures go
stale) and the days its population and family-planning regulation adds to the national 98 days
of maternity leave (女职工劳动保护特别规定 第7条). Figures are data, never code: this module only
parses, validates and indexes them.

Ambiguous place names (a short form shared with another place, or an everyday word) are kept in
the file but never resolved: :func:`region_of` returns ``None`` for them and :func:`place_names`
leaves them out, because naming the wrong province is worse than asking the worker where they are.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.config import PROJECT_ROOT

DEFAULT_PATH = PROJECT_ROOT / "data" / "knowledge" / "regions.yml"
REGION_COUNT = 31
# 最低工资规定 第10条: a standard older than this is probably superseded.
ADJUSTMENT_INTERVAL_YEARS = 2


class RegionDataError(ValueError):
    """The regional table is malformed; the message names the region and field."""


@dataclass(frozen=True)
class City:
    name: str
    short: tuple[str, ...]
    ambiguous: tuple[str, ...] = ()


@dataclass(frozen=True)
class MinimumWage:
    effective: dt.date | None
    monthly: tuple[float, ...]
    hourly: tuple[float, ...]
    source: str
    verified: bool
    note: str | None = None

    def possibly_outdated(self, today: dt.date) -> bool:
        """True when no effective date is known or the standard is older than the adjustment interval."""
        if self.effective is None:
            return True
        try:
            due = self.effective.replace(year=self.effective.year + ADJUSTMENT_INTERVAL_YEARS)
        except ValueError:  # 29 February in a leap year: due on 1 March
            due = dt.date(self.effective.year + ADJUSTMENT_INTERVAL_YEARS, 3, 1)
        return today >= due


@dataclass(frozen=True)
class MaternityExtension:
    days: int | None
    effective: dt.date | None
    source: str
    verified: bool
    note: str | None = None


@dataclass(frozen=True)
class Region:
    id: str
    name: str
    aliases: tuple[str, ...]
    cities: tuple[City, ...]
    minimum_wage: MinimumWage
    maternity_extension: MaternityExtension


@dataclass(frozen=True)
class _Table:
    regions: dict[str, Region]
    suffixes: tuple[str, ...]


def load_regions(path: Path = DEFAULT_PATH) -> dict[str, Region]:
    """Parse and validate the regional table; raise :class:`RegionDataError` on bad data."""
    return _load_table(Path(path)).regions


def _load_table(path: Path) -> _Table:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not isinstance(raw.get("regions"), dict):
        raise RegionDataError(f"{path}: expected a mapping with a 'regions' mapping")
    entries = raw["regions"]
    if len(entries) != REGION_COUNT:
        raise RegionDataError(f"{path}: expected {REGION_COUNT} regions, found {len(entries)}")
    regions = {str(key): _parse_region(str(key), value) for key, value in entries.items()}
    _check_names_unique(regions)
    suffixes = raw.get("suffixes") or []
    if not all(isinstance(s, str) and s for s in suffixes):
        raise RegionDataError(f"{path}: 'suffixes' must be a list of non-empty strings")
    return _Table(regions, tuple(sorted(suffixes, key=len, reverse=True)))


def _parse_region(region_id: str, entry: object) -> Region:
    where = f"region {region_id}"
    if not isinstance(entry, dict):
        raise RegionDataError(f"{where}: expected a mapping")
    name = str(entry.get("name") or "").strip()
    if not name.startswith(region_id) or name == region_id:
        raise RegionDataError(f"{where}: 'name' must be the full official name starting with the id")
    aliases = entry.get("aliases") or []
    if not all(isinstance(a, str) and a.strip() for a in aliases):
        raise RegionDataError(f"{where}: 'aliases' must be a list of non-empty strings")
    cities = entry.get("cities") or []
    if not isinstance(cities, list):
        raise RegionDataError(f"{where}: 'cities' must be a list")
    return Region(
        id=region_id,
        name=name,
        aliases=tuple(a.strip() for a in aliases),
        cities=tuple(_parse_city(where, city, i) for i, city in enumerate(cities)),
        minimum_wage=_parse_wage(f"{where}.minimum_wage", entry.get("minimum_wage")),
        maternity_extension=_parse_maternity(
            f"{where}.maternity_extension", entry.get("maternity_extension")
        ),
    )


def _parse_city(where: str, entry: object, index: int) -> City:
    if not isinstance(entry, dict) or not str(entry.get("name") or "").strip():
        raise RegionDataError(f"{where}: city #{index} needs a 'name'")
    name = str(entry["name"]).strip()
    short: list[str] = []
    ambiguous: list[str] = []
    for form in entry.get("short") or []:
        if isinstance(form, dict) and str(form.get("name") or "").strip():
            target = ambiguous if form.get("ambiguous") is True else short
            target.append(str(form["name"]).strip())
        elif isinstance(form, str) and form.strip():
            short.append(form.strip())
        else:
            raise RegionDataError(f"{where}: city {name}: bad short form {form!r}")
    return City(name=name, short=tuple(short), ambiguous=tuple(ambiguous))


def _parse_wage(where: str, entry: object) -> MinimumWage:
    block = _block(where, entry)
    wage = MinimumWage(
        effective=_date(where, block.get("effective")),
        monthly=_tiers(f"{where}.monthly", block.get("monthly")),
        hourly=_tiers(f"{where}.hourly", block.get("hourly")),
        source=_source(where, block),
        verified=_verified(where, block),
        note=_note(block),
    )
    if wage.verified and (wage.effective is None or not wage.monthly or not wage.hourly):
        raise RegionDataError(f"{where}: verified rows need 'effective', 'monthly' and 'hourly'")
    return wage


def _parse_maternity(where: str, entry: object) -> MaternityExtension:
    block = _block(where, entry)
    days = block.get("days")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days <= 0):
        raise RegionDataError(f"{where}.days: must be a positive whole number or null")
    extension = MaternityExtension(
        days=days,
        effective=_date(where, block.get("effective")),
        source=_source(where, block),
        verified=_verified(where, block),
        note=_note(block),
    )
    if extension.verified and (extension.days is None or extension.effective is None):
        raise RegionDataError(f"{where}: verified rows need 'days' and 'effective'")
    return extension


def _block(where: str, entry: object) -> dict[str, object]:
    if not isinstance(entry, dict):
        raise RegionDataError(f"{where}: expected a mapping")
    return entry


def _date(where: str, value: object) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise RegionDataError(f"{where}.effective: {value!r} is not an ISO date") from None


def _tiers(where: str, value: object) -> tuple[float, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(_positive_number(v) for v in value):
        raise RegionDataError(f"{where}: must be a list of positive amounts")
    if any(a < b for a, b in zip(value, value[1:])):
        raise RegionDataError(f"{where}: tiers must be sorted highest first")
    return tuple(value)


def _positive_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def _source(where: str, block: Mapping[str, object]) -> str:
    source = str(block.get("source") or "").strip()
    if not source:
        raise RegionDataError(f"{where}: missing 'source'")
    return source


def _verified(where: str, block: Mapping[str, object]) -> bool:
    verified = block.get("verified")
    if not isinstance(verified, bool):
        raise RegionDataError(f"{where}: 'verified' must be true or false")
    return verified


def _note(block: Mapping[str, object]) -> str | None:
    note = str(block.get("note") or "").strip()
    return note or None


def _check_names_unique(regions: Mapping[str, Region]) -> None:
    """A name may point to two provinces only when every listing of it is marked ambiguous."""
    clear: dict[str, set[str]] = {}
    flagged: set[str] = set()
    for region in regions.values():
        for form in _clear_forms(region):
            clear.setdefault(form, set()).add(region.id)
        flagged.update(form for city in region.cities for form in city.ambiguous)
    for form, owners in clear.items():
        if len(owners) > 1:
            provinces = ", ".join(sorted(owners))
            raise RegionDataError(f"name {form} points to {provinces}; mark it ambiguous")
        if form in flagged:
            raise RegionDataError(f"name {form} ({next(iter(owners))}) is also listed as ambiguous")


def _clear_forms(region: Region) -> set[str]:
    forms = {region.id, region.name, *region.aliases}
    for city in region.cities:
        forms.update((city.name, *city.short))
    return forms


@lru_cache(maxsize=4)
def _index(path: Path) -> tuple[dict[str, str], frozenset[str], tuple[str, ...]]:
    """Surface form -> region id, the ambiguous forms, and the suffixes to strip."""
    table = _load_table(path)
    names = {form: region.id for region in table.regions.values() for form in _clear_forms(region)}
    ambiguous = frozenset(f for r in table.regions.values() for c in r.cities for f in c.ambiguous)
    return names, ambiguous, table.suffixes


def region_of(name: str, path: Path = DEFAULT_PATH) -> str | None:
    """The canonical region id for a province, alias or city name, with or without its suffix.

    ``None`` when the name is unknown or ambiguous (e.g. 朝阳 is a city in Liaoning and a district
    of Beijing).
    """
    names, ambiguous, suffixes = _index(Path(path))
    text = "".join(name.split())
    if text in names:
        return names[text]
    for suffix in suffixes:
        stem = text[: -len(suffix)]
        if text.endswith(suffix) and len(stem) >= 2 and stem not in ambiguous and stem in names:
            return names[stem]
    return None


def place_names(path: Path = DEFAULT_PATH) -> dict[str, str]:
    """Every unambiguous surface form -> region id (e.g. for an entity ruler); ambiguous forms are left out."""
    names, _, _ = _index(Path(path))
    return dict(names)
