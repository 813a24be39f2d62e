"""The period an analytics page shows and the one it is compared with."""
from __future__ import annotations

from datetime import date

import pytest
from werkzeug.datastructures import MultiDict

from app.analytics import periods
from app.analytics.periods import Period

TODAY = date(2026, 3, 15)


def parse(**args):
    return periods.parse(MultiDict(args), TODAY)


def test_the_default_is_the_last_30_days_including_today():
    period, problems = parse()
    assert (period.start, period.end, period.days, problems) == (date(2026, 2, 14), TODAY, 30, [])


@pytest.mark.parametrize(("key", "start", "end"), [
    ("7d", date(2026, 3, 9), TODAY),
    ("90d", date(2025, 12, 16), TODAY),
    ("this_month", date(2026, 3, 1), TODAY),
    ("last_month", date(2026, 2, 1), date(2026, 2, 28)),
    ("12m", date(2025, 3, 16), TODAY),
])
def test_presets(key, start, end):
    period, problems = parse(range=key)
    assert (period.start, period.end, period.key, problems) == (start, end, key, [])


def test_the_previous_period_has_as_many_days_just_before():
    period, _ = parse(range="7d")
    assert period.previous() == Period(date(2026, 3, 2), date(2026, 3, 8), "previous")


def test_the_month_before_a_calendar_month_is_the_whole_previous_month():
    period, _ = parse(range="last_month")
    previous = period.previous()
    assert (previous.start, previous.end) == (date(2026, 1, 1), date(2026, 1, 31))


def test_a_custom_range_is_taken_and_its_ends_put_in_order():
    period, problems = parse(**{"from": "2026-03-10", "to": "2026-03-01"})
    assert (period.start, period.end, period.key, problems) == (date(2026, 3, 1), date(2026, 3, 10), "custom", [])
    assert period.label == "01 Mar 2026 – 10 Mar 2026"


def test_a_range_reaching_into_the_future_ends_today():
    period, _ = parse(**{"from": "2026-03-01", "to": "2027-01-01"})
    assert period.end == TODAY


@pytest.mark.parametrize(("args", "message"), [
    ({"from": "yesterday"}, "Dates must look like 2026-01-31."),
    ({"from": "2026-02-30", "to": "2026-03-01"}, "Dates must look like 2026-01-31."),
    ({"from": "2027-01-01"}, "That range is in the future; showing the last 30 days."),
    ({"range": "forever"}, "Unknown range; showing the last 30 days."),
])
def test_what_cannot_be_used_is_said_and_the_default_shown(args, message):
    period, problems = parse(**args)
    assert problems == [message]
    assert (period.start, period.end) == (date(2026, 2, 14), TODAY)


def test_a_custom_range_is_at_most_three_years():
    period, problems = parse(**{"from": "2000-01-01", "to": "2026-03-15"})
    assert period.days == periods.MAX_DAYS and period.end == TODAY
    assert problems == ["Ranges are at most three years; showing the last three."]


def test_the_grain_follows_the_length_unless_asked():
    assert periods.grain(MultiDict(), parse(range="30d")[0]) == "day"
    assert periods.grain(MultiDict(), parse(range="90d")[0]) == "week"
    assert periods.grain(MultiDict(), parse(range="12m")[0]) == "month"
    assert periods.grain(MultiDict({"by": "month"}), parse(range="7d")[0]) == "month"
    assert periods.grain(MultiDict({"by": "hour"}), parse(range="7d")[0]) == "day"


def test_buckets_cover_the_period_with_empty_ones_included():
    period = Period(date(2026, 1, 28), date(2026, 3, 2))
    assert periods.buckets(period, "month") == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    assert periods.buckets(period, "week")[0] == date(2026, 1, 26)  # the Monday of that week
    assert periods.buckets(period, "week")[-1] == date(2026, 3, 2)
    assert len(periods.buckets(period, "day")) == period.days == 34
