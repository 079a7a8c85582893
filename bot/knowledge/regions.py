"""Load the regional table ``data/knowledge/regions.yml`` and resolve place names to provinces.

The table holds, for each of the 31 province-level regions of mainland China, its place names,
its current minimum wage (最低工资规定 第10条: adjusted at least every two years, so figures go
stale), the days its population and family-planning regulation adds to the national 98 days
of maternity leave (女职工劳动保护特别规定 第7条), and where the province's own rules differ from
第7条, its figures for a difficult birth, each extra baby, a miscarriage and the second or third
child (``maternity_rules``). Figures are data, never code: this module only parses, validates and
indexes them.

Ambiguous place names (a short form shared with another place, or an everyday word) are kept in
the file but never resolved: :func:`region_of` returns ``None`` for them and :func:`place_names`
leaves them out, because naming the wrong province is worse than asking the worker where they are.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import yaml

from bot.config import PROJECT_ROOT

DEFAULT_PATH = PROJECT_ROOT / "data" / "knowledge" / "regions.yml"
REGION_COUNT = 31
# 最低工资规定 第10条: a standard older than this is probably superseded.
ADJUSTMENT_INTERVAL_YEARS = 2
T = TypeVar("T")


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
    # The places each monthly tier applies to, where the source names them ("深圳市"); None: unnamed.
    places: tuple[str | None, ...] = ()

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


@dataclass(frozen=True, kw_only=True)
class SourcedRule:
    """What every regional maternity rule carries: the article a worker is shown, where it was read."""

    cites: str
    source: str
    verified: bool
    note: str | None = None


@dataclass(frozen=True, kw_only=True)
class DifficultBirth(SourcedRule):
    """Days a difficult birth adds instead of the national 15; ``caesarean``: whether the region's
    rule counts a caesarean section as a difficult birth (None: the rule does not say)."""

    days: int
    caesarean: bool | None


@dataclass(frozen=True, kw_only=True)
class MultipleBirth(SourcedRule):
    """Days each extra baby of a multiple birth adds instead of the national 15."""

    days_per_baby: int


@dataclass(frozen=True)
class MiscarriageTier:
    """From ``from_months`` of pregnancy: ``days`` of leave (up to ``up_to_days`` on medical advice)."""

    from_months: int
    days: int
    up_to_days: int | None = None


@dataclass(frozen=True, kw_only=True)
class Miscarriage(SourcedRule):
    """The region's leave for a miscarriage, by months of pregnancy (replaces 15 / 42 days)."""

    tiers: tuple[MiscarriageTier, ...]


@dataclass(frozen=True, kw_only=True)
class LaterChildren(SourcedRule):
    """Extension days for the second and third child where they differ from the first child's."""

    second: int | None
    third: int | None


@dataclass(frozen=True)
class MaternityRules:
    """Where the region's own rules replace a national maternity figure; None: 第7条 applies."""

    difficult_birth: DifficultBirth | None = None
    multiple_birth: MultipleBirth | None = None
    miscarriage: Miscarriage | None = None
    later_children: LaterChildren | None = None


@dataclass(frozen=True)
class Region:
    id: str
    name: str
    aliases: tuple[str, ...]
    cities: tuple[City, ...]
    minimum_wage: MinimumWage
    maternity_extension: MaternityExtension
    maternity_rules: MaternityRules = MaternityRules()


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
        maternity_rules=_parse_rules(f"{where}.maternity_rules", entry.get("maternity_rules") or {}),
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
        places=_places(f"{where}.places", block.get("places")),
    )
    if len(wage.places) > len(wage.monthly):
        raise RegionDataError(f"{where}.places: more places than monthly tiers")
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


def _parse_rules(where: str, entry: object) -> MaternityRules:
    block = _block(where, entry)
    unknown = set(block) - {"difficult_birth", "multiple_birth", "miscarriage", "later_children"}
    if unknown:
        raise RegionDataError(f"{where}: unknown rules {sorted(unknown)}")
    return MaternityRules(
        difficult_birth=_optional(block, "difficult_birth", where, _parse_difficult),
        multiple_birth=_optional(block, "multiple_birth", where, _parse_multiple),
        miscarriage=_optional(block, "miscarriage", where, _parse_miscarriage),
        later_children=_optional(block, "later_children", where, _parse_later_children),
    )


def _optional(block: Mapping[str, object], name: str, where: str,
              parse: Callable[[str, Mapping[str, object]], T]) -> T | None:
    return None if block.get(name) is None else parse(f"{where}.{name}", _block(f"{where}.{name}", block[name]))


def _sourced(where: str, block: Mapping[str, object]) -> dict[str, object]:
    """The fields every rule carries: what to cite to the worker, where it was read, verified."""
    cites = str(block.get("cites") or "").strip()
    if not cites:
        raise RegionDataError(f"{where}: missing 'cites' (the article a worker is shown)")
    return {"cites": cites, "source": _source(where, block), "verified": _verified(where, block),
            "note": _note(block)}


def _parse_difficult(where: str, block: Mapping[str, object]) -> DifficultBirth:
    caesarean = block.get("caesarean")
    if caesarean is not None and not isinstance(caesarean, bool):
        raise RegionDataError(f"{where}.caesarean: must be true, false or null")
    return DifficultBirth(days=_days(f"{where}.days", block.get("days")), caesarean=caesarean,
                          **_sourced(where, block))


def _parse_multiple(where: str, block: Mapping[str, object]) -> MultipleBirth:
    return MultipleBirth(days_per_baby=_days(f"{where}.days_per_baby", block.get("days_per_baby")),
                         **_sourced(where, block))


def _parse_miscarriage(where: str, block: Mapping[str, object]) -> Miscarriage:
    raw = block.get("tiers")
    if not isinstance(raw, list) or not raw or not all(isinstance(t, dict) for t in raw):
        raise RegionDataError(f"{where}.tiers: must be a list of {{from_months, days}} mappings")
    tiers = tuple(MiscarriageTier(
        from_months=_whole(f"{where}.tiers.from_months", t.get("from_months")),
        days=_days(f"{where}.tiers.days", t.get("days")),
        up_to_days=None if t.get("up_to_days") is None else _days(f"{where}.tiers.up_to_days", t["up_to_days"]),
    ) for t in raw)
    starts = [t.from_months for t in tiers]
    if starts[0] != 0 or starts != sorted(set(starts)):
        raise RegionDataError(f"{where}.tiers: must start at 0 months and rise")
    if any(t.up_to_days is not None and t.up_to_days < t.days for t in tiers):
        raise RegionDataError(f"{where}.tiers: up_to_days must not be below days")
    return Miscarriage(tiers=tiers, **_sourced(where, block))


def _parse_later_children(where: str, block: Mapping[str, object]) -> LaterChildren:
    second, third = (None if block.get(k) is None else _days(f"{where}.{k}", block[k]) for k in ("second", "third"))
    if second is None and third is None:
        raise RegionDataError(f"{where}: give 'second' or 'third'")
    return LaterChildren(second=second, third=third, **_sourced(where, block))


def _whole(where: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RegionDataError(f"{where}: must be a whole number")
    return value


def _days(where: str, value: object) -> int:
    if _whole(where, value) <= 0:
        raise RegionDataError(f"{where}: must be a positive whole number")
    return int(value)  # type: ignore[arg-type]


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


def _places(where: str, value: object) -> tuple[str | None, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(v is None or (isinstance(v, str) and v.strip()) for v in value):
        raise RegionDataError(f"{where}: must be a list of place names or nulls, one per monthly tier")
    return tuple(v.strip() if v else None for v in value)


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
