"""Which audit entries an account may read: those about objects in its scope.

An entry is about one object (``object_type``, ``object_id``). Complaints, handoffs, accounts,
org units and untaught messages belong to an org unit, so their entries follow the object's
unit as the account's :class:`Scope` sees work; an object of no unit (unrouted, deleted, or of
a kind without a unit such as an erased conversation) counts as unrouted work. The bot's FAQs
and publish jobs are the whole organisation's, as every console account already sees them.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import String, and_, cast, not_, or_, select, true

from bot.storage.accounts import Scope
from bot.storage.models import AuditEntry, Complaint, Handoff, OrgUnit, StaffUser
from bot.storage.models_teaching import UnrecognisedMessage

# object_type -> (the column object_id holds, the object's org-unit column).
OWNED = {
    "complaint": (Complaint.ticket, Complaint.org_unit_id),
    "handoff": (cast(Handoff.id, String), Handoff.org_unit_id),
    "staff_user": (StaffUser.username, StaffUser.org_unit_id),
    "org_unit": (cast(OrgUnit.id, String), OrgUnit.id),
    "unrecognised_message": (cast(UnrecognisedMessage.id, String), UnrecognisedMessage.org_unit_id),
}
SHARED = ("faq", "publish_job")


def _about(object_type: str, condition: Any) -> Any:
    """Entries about an object of ``object_type`` whose row meets ``condition``."""
    key, unit = OWNED[object_type]
    return and_(AuditEntry.object_type == object_type,
                AuditEntry.object_id.in_(select(key).where(condition(unit))))


def audit_condition(scope: Scope) -> Any:
    """A SQL condition on ``audit_log``: the entries an account of ``scope`` may read (None: all)."""
    if scope.unit_ids is None:
        return None
    visible = [AuditEntry.object_type.in_(SHARED)]
    visible += [_about(kind, scope.where) for kind in OWNED]
    if scope.unrouted:
        visible.append(and_(AuditEntry.object_type.not_in(SHARED),
                            not_(or_(*(_about(kind, lambda unit: true()) for kind in OWNED)))))
    return or_(*visible)
