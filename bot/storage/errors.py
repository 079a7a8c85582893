"""Domain errors. Actions turn them into replies to the worker, the console into 404/409."""
from __future__ import annotations


class NiangjiaError(Exception):
    """Base of every error the user-facing layers translate."""


class StorageUnavailable(NiangjiaError):
    """The database is down, locked or unreachable: nothing was saved."""


class TicketNotFound(NiangjiaError):
    """No complaint with this ticket for this worker (never says whether it exists for another)."""


class HandoffNotFound(NiangjiaError):
    pass


class StaffNotFound(NiangjiaError):
    pass


class InvalidTransition(NiangjiaError):
    """A status change that the workflow does not allow (e.g. claiming a resolved handoff)."""

    def __init__(self, kind: str, current: str, wanted: str) -> None:
        super().__init__(f"{kind} cannot go from {current!r} to {wanted!r}")
        self.kind = kind
        self.current = current
        self.wanted = wanted


class ChannelUserNotFound(NiangjiaError):
    """No WeChat/WeCom user behind this sender id (they never wrote to us)."""


class UnitNotFound(NiangjiaError):
    pass


class DuplicateName(NiangjiaError):
    """An account or unit with this name already exists."""


class InvalidInput(NiangjiaError):
    """A value the workflow cannot take (short password, unknown role, empty name)."""


class BadCredentials(NiangjiaError):
    """Wrong username or password (never says which)."""


class LoginThrottled(NiangjiaError):
    """Too many wrong passwords lately (for this name, address or browser): try again in ``seconds``."""

    def __init__(self, seconds: int) -> None:
        super().__init__(f"too many failed logins: wait {seconds} s")
        self.seconds = seconds


class NotHandoffOwner(NiangjiaError):
    """A claimed handoff is its claimer's: only they, a supervisor or an admin may transfer or resolve it."""

    def __init__(self, handoff_id: int, claimer: str, claimer_name: str) -> None:
        super().__init__(f"handoff {handoff_id} is claimed by {claimer}: only they or a supervisor "
                         f"may transfer or resolve it")
        self.handoff_id = handoff_id
        self.claimer = claimer
        self.claimer_name = claimer_name
