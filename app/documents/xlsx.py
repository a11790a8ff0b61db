"""Excel (.xlsx) files the back office downloads: one sheet, a header row, formula-safe cells.

The exports of every programme write through here (Kesäseteli youth applications and employer
claims, the Helsinki-lisä reports), so they share one answer to the spreadsheet's pitfalls:

- text that a spreadsheet would run as a formula is written as text (`safe_cell`, R19);
- Excel has no time zones: times are written as Helsinki wall-clock time (`local_time`);
- dates and times get a Finnish display format, money a euro number format on a number cell
  (the value stays a Decimal, never a float the code computed with);
- the header row is bold and frozen, columns may have a width and a fill colour.

Headers are written as given: the exports' columns are fixed Finnish names that the city's own
processes read, whatever the user's language.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HELSINKI = ZoneInfo("Europe/Helsinki")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

DATE_FORMAT = "d.m.yyyy"
DATETIME_FORMAT = "d.m.yyyy h:mm"
EURO_FORMAT = '#,##0.00\\ "€"'
DECIMAL_FORMAT = "0.00"


def safe_cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula is written as text (R19)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def local_time(moment: datetime | None) -> datetime | None:
    """An aware time as Helsinki wall-clock time without tzinfo (what a cell can hold)."""
    if moment is None:
        return None
    return moment.astimezone(HELSINKI).replace(tzinfo=None)


@dataclass(frozen=True)
class Column:
    """One column: its header, and optionally its width (characters), fill colour (RGB hex, the
    header and every cell) and number format (else dates and times get the Finnish ones)."""

    title: str
    width: int | None = None
    fill: str | None = None
    number_format: str | None = None


def _default_format(value: Any) -> str | None:
    if isinstance(value, datetime):
        return DATETIME_FORMAT
    if isinstance(value, date):
        return DATE_FORMAT
    return None


def workbook(
    *, sheet_title: str, columns: Sequence[Column], rows: Iterable[Sequence[Any]]
) -> bytes:
    """The .xlsx file of one sheet: the header row (bold, frozen) and `rows`, cell by cell."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 - a new workbook always has one sheet
    sheet.title = sheet_title
    sheet.append([c.title for c in columns])
    bold = Font(bold=True)
    fills = [
        PatternFill(fill_type="solid", start_color=c.fill, end_color=c.fill) if c.fill else None
        for c in columns
    ]
    for index, column in enumerate(columns, start=1):
        header = sheet.cell(row=1, column=index)
        header.font = bold
        if fills[index - 1] is not None:
            header.fill = fills[index - 1]
        if column.width is not None:
            sheet.column_dimensions[get_column_letter(index)].width = column.width
    for number, values in enumerate(rows, start=2):
        sheet.append([safe_cell(v) for v in values])
        for index, (column, fill) in enumerate(zip(columns, fills, strict=True), start=1):
            cell = sheet.cell(row=number, column=index)
            if fill is not None:
                cell.fill = fill
            if cell.value is None:
                continue
            number_format = column.number_format or _default_format(cell.value)
            if number_format is not None:
                cell.number_format = number_format
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
