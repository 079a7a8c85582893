"""Phone and ID-card numbers never reach a log above debug level.

:func:`install` wraps the logging record factory of the process, so every record of level
INFO or above — ours, Rasa's, Sanic's, gunicorn's access log, whatever handler or format
the framework configures later — is masked when it is created: 13812345678 → 138****5678,
a resident ID number → its first 6 and last 2 characters around asterisks. Debug records are
left as they are (debug logging is for a developer's own machine).
"""
from __future__ import annotations

import logging
import re
import warnings

from bot.complaints import MOBILE_RE

# 18-character resident ID (last may be X) and the old 15-digit one; not inside longer numbers.
ID_RE = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
# Tickets (NJ-20261124-7KQ2M) and timestamps are not personal; only these two shapes are masked.


def _mask_id(match: re.Match) -> str:
    whole = match.group(0)
    return whole[:6] + "*" * (len(whole) - 8) + whole[-2:]


def mask(text: str) -> str:
    """``text`` with mobile and ID-card numbers masked."""
    text = MOBILE_RE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    return ID_RE.sub(_mask_id, text)


_installed = False


def install() -> None:
    """Mask every record of level INFO and above created in this process (idempotent)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if record.levelno > logging.DEBUG:
            try:
                message = record.getMessage()
            except Exception:  # noqa: BLE001 - a broken format is logging's to report
                return record
            masked = mask(message)
            if masked != message:
                record.msg, record.args = masked, ()
        return record

    logging.setLogRecordFactory(factory)
    # Python warnings go to stderr past every logging record; Rasa's warns with the worker's
    # whole message ("Failed to parse arguments in line '/…'"). As records they are masked too.
    logging.captureWarnings(True)
    # That one repeats a typed "/…" message whole, names included: not worth a line.
    warnings.filterwarnings("ignore", message="Failed to parse arguments in line")
    _installed = True
