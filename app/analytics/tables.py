"""A table of figures: shown on an analytics page and downloadable as CSV from the same data.

Sections return Tables (and Charts for the page); the page renders `table.rows` with the
`figures_table` macro (templates/_charts.html) and `/…/analytics/<table id>.csv` writes the same
rows with raw values (minor units become decimal amounts, percentages stay numbers).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

COLUMN_KINDS = ("text", "count", "money", "percent", "hours", "date", "link")


@dataclass
class Column:
    title: str
    kind: str = "count"  # one of COLUMN_KINDS; "money" cells are (minor, currency) pairs


@dataclass
class Table:
    id: str  # unique on its page; the CSV's file name
    title: str
    columns: list[Column]
    rows: list[list] = field(default_factory=list)
    caption: str = ""  # a sentence under the title saying what is counted
    empty: str = "Nothing in this period yet."
    shown: int | None = None  # at most this many rows on the page (the CSV has them all)

    @property
    def page_rows(self) -> list[list]:
        return self.rows if self.shown is None else self.rows[:self.shown]

    def csv_rows(self) -> list[list[str]]:
        """The header and every row as plain text for a CSV file."""
        out = [[column.title for column in self.columns]]
        for row in self.rows:
            out.append([_csv_cell(column, value) for column, value in zip(self.columns, row, strict=True)])
        return out


def _csv_cell(column: Column, value) -> str:
    if value is None:
        return ""
    if column.kind == "money":
        minor, currency = value
        return f"{Decimal(int(minor)).scaleb(-2).quantize(Decimal('0.01'))} {currency}"
    if column.kind == "link":
        text, _url = value
        return str(text)
    if column.kind == "date":
        return value.isoformat()
    return str(value)
