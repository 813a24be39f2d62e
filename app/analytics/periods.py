"""The period an analytics page shows, and the one before it to compare with.

A period is a range of whole UTC days, both ends included. Pages offer presets (the last 7,
30 or 90 days, this month, last month, this year) and a custom range; the previous period is
the same number of days just before (for a calendar month: the month before).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from app.formatting import MONTHS, format_date

PRESETS = {  # key -> label, in the order the picker shows them
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "90d": "Last 90 days",
    "this_month": "This month",
    "last_month": "Last month",
    "12m": "Last 12 months",
}
DEFAULT = "30d"
MAX_DAYS = 3 * 366  # a custom range longer than this is cut to its last MAX_DAYS days
GRAINS = ("day", "week", "month")


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included
    key: str = "custom"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        if self.key in PRESETS:
            return PRESETS[self.key]
        return f"{format_date(self.start)} – {format_date(self.end)}"

    def previous(self) -> Period:
        if self.key in ("this_month", "last_month"):
            end = self.start - timedelta(days=1)
            return Period(end.replace(day=1), end, "previous")
        end = self.start - timedelta(days=1)
        return Period(end - timedelta(days=self.days - 1), end, "previous")

    def default_grain(self) -> str:
        """Day bars up to 31 days, weeks up to about half a year, months beyond."""
        if self.days <= 31:
            return "day"
        return "week" if self.days <= 190 else "month"


def _first_of_previous_month(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def preset(key: str, today: date) -> Period:
    if key == "7d":
        return Period(today - timedelta(days=6), today, key)
    if key == "90d":
        return Period(today - timedelta(days=89), today, key)
    if key == "this_month":
        return Period(today.replace(day=1), today, key)
    if key == "last_month":
        start = _first_of_previous_month(today)
        return Period(start, today.replace(day=1) - timedelta(days=1), key)
    if key == "12m":
        return Period(today - timedelta(days=364), today, key)
    return Period(today - timedelta(days=29), today, DEFAULT)


def parse(args, today: date) -> tuple[Period, list[str]]:
    """The period asked for by query arguments (`range`, or `from` and `to` as YYYY-MM-DD),
    with messages for what could not be used (the default is shown instead): never an error."""
    problems: list[str] = []
    start_text, end_text = (args.get("from") or "").strip(), (args.get("to") or "").strip()
    if start_text or end_text:
        try:
            start = date.fromisoformat(start_text)
            end = date.fromisoformat(end_text) if end_text else today
        except ValueError:
            problems.append("Dates must look like 2026-01-31.")
        else:
            if end < start:
                start, end = end, start
            end = min(end, today)
            if start > today or (start_text and date.fromisoformat(start_text) > today):
                problems.append("That range is in the future; showing the last 30 days.")
            else:
                if (end - start).days + 1 > MAX_DAYS:
                    start = end - timedelta(days=MAX_DAYS - 1)
                    problems.append("Ranges are at most three years; showing the last three.")
                return Period(start, end), problems
    key = args.get("range") or DEFAULT
    if key not in PRESETS:
        problems.append("Unknown range; showing the last 30 days.")
        key = DEFAULT
    return preset(key, today), problems


def grain(args, period: Period) -> str:
    value = args.get("by")
    return value if value in GRAINS else period.default_grain()


def bucket_start(day: date, grain_name: str) -> date:
    """The first day of the bucket (day, ISO week from Monday, or month) that `day` falls in."""
    if grain_name == "week":
        return day - timedelta(days=day.weekday())
    if grain_name == "month":
        return day.replace(day=1)
    return day


def buckets(period: Period, grain_name: str) -> list[date]:
    """Every bucket start in the period, oldest first (empty buckets included: a chart needs them)."""
    starts: list[date] = []
    day = bucket_start(period.start, grain_name)
    while day <= period.end:
        starts.append(day)
        if grain_name == "day":
            day += timedelta(days=1)
        elif grain_name == "week":
            day += timedelta(days=7)
        else:
            day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return starts


def bucket_label(start: date, grain_name: str) -> str:
    """How a bucket is named on a chart axis and in a table: '07 Dec 2026', 'Week of 07 Dec 2026',
    'Dec 2026'."""
    if grain_name == "month":
        return f"{MONTHS[start.month - 1]} {start.year}"
    if grain_name == "week":
        return f"Week of {format_date(start)}"
    return format_date(start)
