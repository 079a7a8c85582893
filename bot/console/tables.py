"""What the console's lists share: a date range read from the query string, and the CSV export."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from typing import Iterable, Sequence

from flask import Response
from wtforms import DateField, Field, Form
from wtforms.validators import Optional

from bot.console.deps import CHINA_TIME
from bot.storage.models import utcnow

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class DateRangeForm(Form):
    """A list's filters, read from the query string (a GET form: no CSRF), with a range of days."""

    date_from = DateField(validators=[Optional()])
    date_to = DateField(validators=[Optional()])

    def created_range(self) -> tuple[datetime | None, datetime | None]:
        """The chosen Beijing days as naive UTC bounds: (inclusive start, exclusive end)."""
        start, end = valid(self.date_from), valid(self.date_to)
        return (day_start(start) if start else None, day_start(end, days_after=1) if end else None)


def valid(field: Field):  # type: ignore[no-untyped-def]
    """A filter field's value; None if unset or invalid (an invalid one is ignored, and the page says so)."""
    return None if field.errors else (field.data or None)


def day_start(day: date, days_after: int = 0) -> datetime | None:
    """Midnight of a Beijing day (plus ``days_after``), in the naive UTC the database stores;
    None for a day at the end of the calendar (0001-01-01, 9999-12-31: no bound at all)."""
    try:
        return datetime.combine(day, time()) + timedelta(days=days_after) - CHINA_TIME
    except OverflowError:
        return None


def csv_response(name: str, header: Sequence[str], rows: Iterable[Sequence[str]]) -> Response:
    """A spreadsheet download: UTF-8 with a BOM (Excel reads the Chinese), and no cell a
    spreadsheet would run as a formula or that would break the file."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell_text(text) for text in row])
    filename = f"{name}-{(utcnow() + CHINA_TIME):%Y%m%d-%H%M}.csv"
    return Response(buffer.getvalue().encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "no-store"})


def cell_text(text: str) -> str:
    # Control characters (a NUL typed into a chat) would break the CSV writer and the sheet.
    return formula_safe("".join(ch for ch in text if ch in "\n\t" or ch.isprintable()))


def formula_safe(text: str) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading apostrophe."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text
