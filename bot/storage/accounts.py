"""Staff accounts and org units: passwords (argon2), login throttling, who sees what, routing.

Wrong passwords slow guessing down rather than lock anyone out: after a few failures for an
account name, a client address or a browser, each further attempt must wait twice as long as the
last (at most five minutes), whether or not the account exists. A browser that logged in to the
account before has a throttle of its own, so an attacker hammering the name cannot keep its
owner out.

An account belongs to an org unit and sees the work of that unit and every unit below it;
an account without a unit (the first admin, city-wide supervisors) sees everything.
Handoffs and complaints are routed to the most specific unit whose employers or regions
match the worker's, else they stay unrouted (seen by accounts without a unit or at a root unit).
"""
from __future__ import annotations

import hashlib
import logging
import math
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.storage.db import Database
from bot.storage.errors import (BadCredentials, DuplicateName, InvalidInput, LoginThrottled,
                                StaffNotFound, UnitNotFound)
from bot.storage.models import LoginThrottle, OrgUnit, Role, StaffUser, utcnow
from bot.storage.repositories import AuditRepository

logger = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 10
# Failed logins without any wait; after that the n-th further one waits 2**n seconds, at most MAX_DELAY.
FREE_FAILURES = 3
MAX_DELAY = timedelta(minutes=5)
# A name, address or browser without a failure for this long starts again from nothing.
FORGET_FAILURES_AFTER = timedelta(hours=1)
COMMON_PASSWORDS = Path(__file__).resolve().parent / "common_passwords.txt"
_HASHER = PasswordHasher()
# Verified against when the username is unknown, so both cases take the same time.
_DUMMY_HASH = _HASHER.hash("niangjia-timing-equaliser")


def normalise_name(text: str | None) -> str:
    """Employer/region names compared the way staff read them: width, case and spaces folded."""
    return " ".join(unicodedata.normalize("NFKC", text or "").casefold().split())


@dataclass(frozen=True)
class Scope:
    """What an account sees: work routed to ``unit_ids`` (None: every unit), and unrouted work."""

    unit_ids: frozenset[int] | None
    unrouted: bool

    def contains(self, unit_id: int | None) -> bool:
        if self.unit_ids is None:
            return True
        return self.unrouted if unit_id is None else unit_id in self.unit_ids

    def where(self, column):  # type: ignore[no-untyped-def]
        """A SQL condition on an ``org_unit_id`` column (None: no restriction)."""
        if self.unit_ids is None:
            return None
        condition = column.in_(self.unit_ids)
        return or_(condition, column.is_(None)) if self.unrouted else condition


EVERYTHING = Scope(None, True)


@dataclass(frozen=True)
class UnitNode:
    id: int
    name: str
    parent_id: int | None
    depth: int


def unit_tree(units: Iterable[OrgUnit]) -> list[UnitNode]:
    """Units in tree order (parents before children), with their depth for indenting."""
    children: dict[int | None, list[OrgUnit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    ordered: list[UnitNode] = []

    def walk(parent: int | None, depth: int) -> None:
        for unit in sorted(children.get(parent, []), key=lambda u: u.id):
            ordered.append(UnitNode(unit.id, unit.name, unit.parent_id, depth))
            walk(unit.id, depth + 1)

    walk(None, 0)
    return ordered


def subtree_ids(units: Iterable[OrgUnit], root_id: int) -> set[int]:
    children: dict[int | None, list[int]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit.id)
    found, stack = set(), [root_id]
    while stack:
        current = stack.pop()
        if current not in found:
            found.add(current)
            stack.extend(children.get(current, []))
    return found


def scope_of(units: Sequence[OrgUnit], org_unit_id: int | None) -> Scope:
    """What an account of unit ``org_unit_id`` sees, given every unit (see :meth:`AccountService.scope`)."""
    if org_unit_id is None:
        return EVERYTHING
    unit = next((u for u in units if u.id == org_unit_id), None)
    if unit is None:
        return Scope(frozenset(), False)
    return Scope(frozenset(subtree_ids(units, unit.id)), unit.parent_id is None)


def route_unit(units: Sequence[OrgUnit], employer: str | None, region: str | None) -> int | None:
    """The most specific unit covering the worker's employer, else their place of work.

    The place is the worker's region and a place named in the employer's name (朝阳宏达电子厂 →
    a unit covering 朝阳). A place in the name only narrows the region down to a unit below the
    region's unit, never contradicts it: a worker who said 海淀 stays with 海淀's unit.
    """
    depth = {node.id: node.depth for node in unit_tree(units)}
    employer, region = normalise_name(employer), normalise_name(region)

    def terms(values: list[str] | None) -> list[str]:
        return [t for t in map(normalise_name, values or []) if t]

    def covering(terms_of: Callable[[OrgUnit], list[str]], value: str) -> list[OrgUnit]:
        return [u for u in units if value and any(t in value or value in t for t in terms(terms_of(u)))]

    def deepest(hits: list[OrgUnit]) -> OrgUnit | None:
        return max(hits, key=lambda u: (depth.get(u.id, 0), -u.id)) if hits else None

    by_employer = deepest(covering(lambda u: u.employers, employer))
    if by_employer is not None:
        return by_employer.id
    by_region = deepest(covering(lambda u: u.regions, region))
    below = subtree_ids(units, by_region.id) if by_region else None
    named = [u for u in units if (below is None or u.id in below)
             and any(t in employer for t in terms(u.regions))]
    place = deepest(named) or by_region
    return place.id if place else None


def route_in(session: Session, employer: str | None, region: str | None) -> int | None:
    return route_unit(session.scalars(select(OrgUnit)).all(), employer, region)


# The domain's slots that say where a worker works (the complaint form's employer and place, the
# region the worker named anywhere): handoffs and untaught messages are routed by them.
EMPLOYER_SLOT, PLACE_SLOTS = "complaint_employer", ("complaint_region", "region")
ROUTING_SLOTS = (EMPLOYER_SLOT, *PLACE_SLOTS)


def route_worker(session: Session, slots: Mapping[str, Any]) -> int | None:
    """The unit a worker's handoff or untaught message goes to, from what the bot knows of them."""
    place = next((slots[name] for name in PLACE_SLOTS if slots.get(name)), None)
    return route_in(session, slots.get(EMPLOYER_SLOT), place)


class AccountService:
    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock

    # --- accounts ---------------------------------------------------------------
    def add(self, username: str, display_name: str, role: str = Role.STAFF.value,
            unit: str | None = None, password: str | None = None, actor: str = "cli") -> StaffUser:
        username, display_name = username.strip(), display_name.strip()
        if not username or not display_name or role not in {r.value for r in Role}:
            raise InvalidInput("username, display name and a known role are required")
        with self.db.transaction() as session:
            unit_id = self._unit_id(session, unit)
            user = StaffUser(username=username, display_name=display_name, role=role, org_unit_id=unit_id,
                             password_hash=_hash(password) if password else None)
            session.add(user)
            try:
                session.flush()
            except IntegrityError as exc:
                raise DuplicateName(username) from exc
            AuditRepository(session).record(actor, "staff.created", "staff_user", username,
                                            {"role": role, "unit": unit})
        return self.get(username)

    def update(self, username: str, actor: str, role: str | None = None, unit: str | None = None,
               active: bool | None = None, display_name: str | None = None) -> StaffUser:
        with self.db.transaction() as session:
            user = self._user(session, username)
            changes: dict[str, object] = {}
            if role is not None and role != user.role:
                if role not in {r.value for r in Role}:
                    raise InvalidInput(f"unknown role {role!r}")
                changes["role"], user.role = role, role
            if unit is not None:
                unit_id = self._unit_id(session, unit or None)
                if unit_id != user.org_unit_id:
                    changes["unit"], user.org_unit_id = unit or None, unit_id
            if active is not None and active != user.active:
                changes["active"], user.active = active, active
            if display_name and display_name.strip() != user.display_name:
                changes["display_name"], user.display_name = display_name.strip(), display_name.strip()
            if changes:
                AuditRepository(session).record(actor, "staff.updated", "staff_user", username, changes)
        return self.get(username)

    def set_password(self, username: str, password: str, actor: str) -> None:
        password_hash = _hash(password)
        with self.db.transaction() as session:
            self._store_password(session, self._user(session, username), password_hash, actor)

    def change_password(self, username: str, current: str, new: str, client: str | None = None) -> StaffUser:
        """The account's own password change: the current password first (throttled like a login)."""
        password_hash = _hash(new)
        return self._attempt(username, current, login_keys(username, client),
                             lambda session, user: self._store_password(session, user, password_hash, username))

    def _store_password(self, session: Session, user: StaffUser, password_hash: str, actor: str) -> None:
        user.password_hash = password_hash
        user.sessions_valid_after = self.clock()  # a new password ends every open session
        AuditRepository(session).record(actor, "staff.password_set", "staff_user", user.username)

    def end_sessions(self, user_id: int) -> None:
        """Every console session of this account started until now is over (logout)."""
        with self.db.transaction() as session:
            user = session.get(StaffUser, user_id)
            if user is not None:
                user.sessions_valid_after = self.clock()

    def authenticate(self, username: str, password: str, client: str | None = None,
                     device: str | None = None) -> StaffUser:
        """The account, if the password is right, it is active and the attempt need not wait.

        ``client`` is the address the attempt came from; ``device`` the id of a browser that logged
        in to this account before (the console checks its signed cookie): such a browser is
        throttled on its own, not with the account name and the address an attacker may be
        hammering. Unknown names get the same answers, after the same work, as real accounts.
        """
        def logged_in(session: Session, user: StaffUser) -> None:
            user.last_login_at = self.clock()
            AuditRepository(session).record(user.username, "staff.login", "staff_user", user.username)

        return self._attempt(username, password, login_keys(username, client, device), logged_in)

    def _attempt(self, username: str, password: str, keys: list[str],
                 succeeded: Callable[[Session, StaffUser], None]) -> StaffUser:
        """Check a password under the throttle of ``keys``: a failure is counted on every key, a
        success forgets the account's (or the browser's) count and runs ``succeeded``."""
        now = self.clock()
        failure: Exception | None = None
        with self.db.transaction() as session:  # commits the failure count too: raise after it
            counts = {row.key: row for row in session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(keys)))}
            wait = max((_wait(row, now) for row in counts.values()), default=0)
            user = session.scalars(select(StaffUser).where(StaffUser.username == username.strip())).first()
            if wait:
                failure = LoginThrottled(wait)
            elif user is None or not user.active or not user.password_hash:
                _verify(_DUMMY_HASH, password)
                failure = BadCredentials()
            elif not _verify(user.password_hash, password):
                failure = BadCredentials()
            else:
                if _HASHER.check_needs_rehash(user.password_hash):
                    user.password_hash = _HASHER.hash(password)
                session.execute(delete(LoginThrottle).where(LoginThrottle.key == keys[0]))
                succeeded(session, user)
            if isinstance(failure, BadCredentials):
                self._count_failure(session, keys, counts, now, user)
        if failure is not None:
            raise failure
        return user

    @staticmethod
    def _count_failure(session: Session, keys: list[str], counts: dict[str, LoginThrottle],
                       now: datetime, user: StaffUser | None) -> None:
        forgotten = now - FORGET_FAILURES_AFTER
        session.execute(delete(LoginThrottle).where(LoginThrottle.last_failed_at < forgotten,
                                                    LoginThrottle.key.not_in(keys)))
        for key in keys:
            row = counts.get(key)
            if row is None:
                row = LoginThrottle(key=key, failures=0, last_failed_at=now)
                session.add(row)
            elif row.last_failed_at <= forgotten:
                row.failures = 0
            row.failures, row.last_failed_at = row.failures + 1, now
            if key == keys[0] and row.failures == FREE_FAILURES + 1 and user is not None:
                AuditRepository(session).record("system", "staff.login_throttled", "staff_user", user.username)
                logger.warning("staff account %s: repeated failed logins, further attempts slowed down", user.id)

    def get(self, username: str) -> StaffUser:
        with self.db.transaction() as session:
            return self._user(session, username)

    def by_id(self, user_id: int) -> StaffUser | None:
        with self.db.transaction() as session:
            return session.get(StaffUser, user_id)

    def listing(self) -> Sequence[StaffUser]:
        with self.db.transaction() as session:
            return session.scalars(select(StaffUser).order_by(StaffUser.username)).all()

    def colleagues(self, scope: Scope) -> Sequence[StaffUser]:
        """Active accounts working within ``scope``."""
        query = select(StaffUser).where(StaffUser.active.is_(True)).order_by(StaffUser.display_name)
        condition = scope.where(StaffUser.org_unit_id)
        if condition is not None:
            query = query.where(condition)
        with self.db.transaction() as session:
            return session.scalars(query).all()

    # --- org units ----------------------------------------------------------------
    def add_unit(self, name: str, parent: str | None = None, regions: Sequence[str] = (),
                 employers: Sequence[str] = (), actor: str = "cli") -> OrgUnit:
        name = name.strip()
        if not name:
            raise InvalidInput("a unit needs a name")
        with self.db.transaction() as session:
            unit = OrgUnit(name=name, parent_id=self._unit_id(session, parent),
                           regions=_terms(regions), employers=_terms(employers))
            session.add(unit)
            try:
                session.flush()
            except IntegrityError as exc:
                raise DuplicateName(name) from exc
            AuditRepository(session).record(actor, "unit.created", "org_unit", unit.id,
                                            {"name": name, "parent": parent})
            return unit

    def update_unit(self, unit_id: int, actor: str, regions: Sequence[str], employers: Sequence[str]) -> OrgUnit:
        with self.db.transaction() as session:
            unit = session.get(OrgUnit, unit_id)
            if unit is None:
                raise UnitNotFound(str(unit_id))
            unit.regions, unit.employers = _terms(regions), _terms(employers)
            AuditRepository(session).record(actor, "unit.updated", "org_unit", unit_id,
                                            {"regions": unit.regions, "employers": unit.employers})
            return unit

    def units(self) -> Sequence[OrgUnit]:
        with self.db.transaction() as session:
            return session.scalars(select(OrgUnit).order_by(OrgUnit.id)).all()

    def scope(self, org_unit_id: int | None) -> Scope:
        """What an account of unit ``org_unit_id`` sees: that unit and the units below it; a top
        unit also sees unrouted work, an account without a unit sees everything."""
        return scope_of(self.units(), org_unit_id) if org_unit_id is not None else EVERYTHING

    @staticmethod
    def _unit_id(session: Session, name: str | None) -> int | None:
        if not name:
            return None
        unit = session.scalars(select(OrgUnit).where(OrgUnit.name == name.strip())).first()
        if unit is None:
            raise UnitNotFound(name)
        return unit.id

    @staticmethod
    def _user(session: Session, username: str) -> StaffUser:
        user = session.scalars(select(StaffUser).where(StaffUser.username == username)).first()
        if user is None:
            raise StaffNotFound(username)
        return user


def _terms(values: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for value in values:
        value = value.strip()
        if value and value not in seen:
            seen.append(value)
    return seen


def login_keys(username: str, client: str | None = None, device: str | None = None) -> list[str]:
    """Throttle keys of a login attempt, the account's (or the known browser's) first."""
    if device:
        return [_key("device", device)]
    return [_key("user", username.strip())] + ([_key("addr", client)] if client else [])


def _key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode("utf-8")).hexdigest()


def _wait(row: LoginThrottle, now: datetime) -> int:
    """Seconds before ``row``'s name, address or browser may try again (0: now)."""
    if row.failures <= FREE_FAILURES or now - row.last_failed_at >= FORGET_FAILURES_AFTER:
        return 0
    delay = min(timedelta(seconds=2 ** min(row.failures - FREE_FAILURES, 20)), MAX_DELAY)
    return max(0, math.ceil((row.last_failed_at + delay - now).total_seconds()))


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().casefold() for line in lines if line.strip() and not line.startswith("#"))


def is_common_password(password: str) -> bool:
    """One of the most common passwords (bundled list, case ignored): the first ones guessed."""
    return password.strip().casefold() in _common_passwords()


def _hash(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"passwords need at least {MIN_PASSWORD_LENGTH} characters")
    if is_common_password(password):
        raise InvalidInput("this password is one of the most common ones: choose another")
    return _HASHER.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
