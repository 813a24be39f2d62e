"""The SVG charts (app/blueprints/charts.py) and their macros (templates/_charts.html): valid,
named for a screen reader, drawn to scale, honest when empty, escaped, legible when crowded."""
from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from flask import render_template_string

from app.analytics.charts import Chart, Series
from app.blueprints.charts import (
    EMPTY_TEXT,
    LINE_STYLES,
    MAX_X_LABELS,
    SERIES_COLOURS,
    chart_svg,
    nice_ticks,
)

SVG = "{http://www.w3.org/2000/svg}"
DAYS = [f"{d:02d} Nov" for d in range(1, 31)]


def draw(chart: Chart) -> ET.Element:
    return ET.fromstring(str(chart_svg(chart)))


def classes(element: ET.Element) -> set[str]:
    return set(element.get("class", "").split())


def bars(root: ET.Element) -> list[ET.Element]:
    return [r for r in root.iter(f"{SVG}rect") if "bar" in classes(r)]


def texts(root: ET.Element, cls: str) -> list[str]:
    return [t.text for t in root.iter(f"{SVG}text") if cls in classes(t)]


def zero_y(root: ET.Element) -> float:
    (line,) = [x for x in root.iter(f"{SVG}line") if "zero" in classes(x)]
    assert line.get("y1") == line.get("y2")
    return float(line.get("y1"))


def sales(values, **options) -> Chart:
    labels = options.pop("labels", DAYS[: len(values)])
    return Chart("sales", "Sales", "Sales per day.", labels, [Series("Sales", values)], **options)


def test_the_svg_is_an_image_named_by_its_title_and_description():
    root = draw(sales([3, 1, 4]))

    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("viewBox").startswith("0 0 640 ")
    assert root.get("width") is None and root.get("height") is None  # it scales to its container
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert root.get("aria-labelledby") == "sales-title sales-desc"
    assert (title.get("id"), title.text) == ("sales-title", "Sales")
    assert desc.get("id") == "sales-desc"
    assert desc.text.startswith("Sales per day.")
    assert "highest 4 (03 Nov)" in desc.text


def test_colours_are_classes_not_inline_fills():
    markup = str(chart_svg(Chart("c", "C", "C.", DAYS[:3], [Series("A", [1, 2, 3]), Series("B", [3, 2, 1]),
                                                            Series("Before", [2, 2, 2], "line")])))
    assert "fill=" not in markup and "stroke=" not in markup and "style=" not in markup
    root = ET.fromstring(markup)
    assert {"series-1", "series-2"} <= set().union(*(classes(b) for b in bars(root)))


def test_every_colour_class_the_charts_use_has_a_rule_in_the_style_sheet(app):
    css = (Path(app.static_folder) / "css" / "app.css").read_text(encoding="utf-8")
    for n in range(1, SERIES_COLOURS + 1):
        assert re.search(rf"\.chart-svg \.series-{n} {{ fill: var\(--chart-{n}\)", css)
    for n in range(1, LINE_STYLES + 1):
        assert re.search(rf"\.chart-svg \.line-{n} {{ stroke: [^;]+; stroke-dasharray: [0-9 ]+", css)
    seven = Chart("c", "C", "C.", ["A"], [Series(f"S{i}", [i + 1]) for i in range(SERIES_COLOURS + 1)])
    assert "series-1" in classes(bars(draw(seven))[-1])  # the palette comes round again


def test_bar_heights_are_proportional_to_their_values():
    root = draw(sales([10, 20, 5, 40]))
    heights = [float(b.get("height")) for b in bars(root)]

    assert len(heights) == 4
    for value, height in zip([10, 20, 5, 40], heights, strict=True):
        assert height / heights[0] == pytest.approx(value / 10, rel=0.01)
    zero = zero_y(root)
    assert all(float(b.get("y")) + float(b.get("height")) == pytest.approx(zero) for b in bars(root))


def test_negative_values_are_drawn_below_the_zero_line():
    root = draw(Chart("net", "Net", "Net revenue per day.", DAYS[:3], [Series("Net", [5000, -2000, 3000])],
                      unit="money"))
    zero = zero_y(root)
    up, down, up_again = bars(root)

    assert float(up.get("y")) + float(up.get("height")) == pytest.approx(zero)
    assert float(down.get("y")) == pytest.approx(zero)  # hangs from the zero line
    assert "negative" in classes(down)
    assert float(down.get("height")) / float(up.get("height")) == pytest.approx(2000 / 5000, rel=0.01)
    assert texts(root, "tick")[0].startswith("-$")  # the axis goes below zero
    assert "-$20.00" in down.find(f"{SVG}title").text


@pytest.mark.parametrize(("low", "high", "integer"), [
    (0, 1, True), (0, 7, True), (0, 10, False), (0, 99, True), (0, 101, True), (-30, 100, False),
    (0, 0.3, False), (0, 12_345, True), (-5, 0, True), (-1234, 98_765, True), (0, 1_000_000, True),
    (0, 0.001, True), (0, 0.001, False), (-0.5, 0, False),
])
def test_ticks_are_three_to_five_nice_numbers_covering_the_values(low, high, integer):
    ticks = nice_ticks(low, high, integer=integer)
    step = ticks[1] - ticks[0]

    assert 3 <= len(ticks) <= 5
    assert ticks[0] <= low and ticks[-1] >= high and 0 in ticks
    assert all(b - a == pytest.approx(step) for a, b in zip(ticks, ticks[1:], strict=False))
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert round(mantissa, 6) in (1, 2, 2.5, 5)
    if integer:
        assert all(float(t).is_integer() for t in ticks)


@pytest.mark.parametrize(("unit", "values", "ticks"), [
    ("count", [3, 7, 2], ["0", "2", "4", "6", "8"]),
    ("count", [1, 0, 1], ["0", "1", "2"]),  # never half a sale
    ("money", [12_000, 45_000, 8_000], ["$0", "$200", "$400", "$600"]),  # minor units, per currency
    ("money", [250, 120], ["$0", "$1", "$2", "$3"]),
    ("money", [25, 12], ["$0.00", "$0.10", "$0.20", "$0.30"]),
    ("money", [1_500_000, 2_400_000], ["$0", "$10k", "$20k", "$30k"]),
    ("money", [-100_000, 1_200_000], ["-$5k", "$0", "$5k", "$10k", "$15k"]),  # one style for the axis
    ("money", [250_000_000], ["$0", "$1M", "$2M", "$3M"]),
    ("count", [12_000, 25], ["0", "5k", "10k", "15k"]),
    ("count", [2_500, 25], ["0", "1,000", "2,000", "3,000"]),
    ("percent", [12.5, 40, 33], ["0%", "10%", "20%", "30%", "40%"]),
    ("percent", [2.5, 9], ["0%", "2.5%", "5%", "7.5%", "10%"]),
    ("hours", [5, 30, 12], ["0 h", "10 h", "20 h", "30 h"]),
    ("hours", [20, 130, 72], ["0 days", "2 days", "4 days", "6 days"]),
])
def test_tick_labels_are_formatted_by_the_unit(unit, values, ticks):
    root = draw(sales(values, unit=unit))
    assert texts(root, "tick") == ticks  # from the bottom up


def test_money_ticks_follow_the_currency():
    root = draw(sales([40_000, 10_000], unit="money", currency="EUR"))
    assert texts(root, "tick")[-1] == "€400"
    root = draw(sales([40_000, 10_000], unit="money", currency="CHF"))
    assert texts(root, "tick")[-1] == "400 CHF"


def test_the_legend_names_every_series_and_lines_are_dashed():
    chart = Chart("rev", "Revenue", "Revenue per day.", DAYS[:5], [
        Series("Gross", [5, 6, 7, 8, 9]), Series("Net", [4, 5, 6, 7, 8]),
        Series("Net, previous period", [3, 4, 5, 4, 3], style="line")], unit="money")
    root = draw(chart)
    legend = root.find(f"{SVG}g[@class='legend']")

    assert [t.text for t in legend.iter(f"{SVG}text")] == ["Gross", "Net", "Net, previous period"]
    (sample,) = [x for x in legend.iter(f"{SVG}line")]
    assert "line-solid" not in classes(sample)  # dashed in CSS: it differs in print, without colour
    (line,) = root.iter(f"{SVG}polyline")
    assert "line-1" in classes(line) and "line-solid" not in classes(line)
    assert len(line.get("points").split()) == 5
    assert len([c for c in root.iter(f"{SVG}circle") if "point" in classes(c)]) == 5 + 1  # and its sample


def test_a_chart_of_lines_alone_draws_its_first_line_solid():
    root = draw(Chart("rate", "Rating", "Average rating per week.", ["W1", "W2", "W3"],
                      [Series("Average", [4.5, 4.2, 4.8], style="line")]))
    (line,) = root.iter(f"{SVG}polyline")
    assert "line-solid" in classes(line)
    assert not bars(root)
    assert "4.8 (W3)" in root.find(f"{SVG}desc").text


def test_a_gap_in_a_line_breaks_it():
    root = draw(Chart("r", "R", "R.", DAYS[:5], [Series("Rate", [10, 20, None, 30, 40], style="line")],
                      unit="percent"))
    assert [len(p.get("points").split()) for p in root.iter(f"{SVG}polyline")] == [2, 2]


def test_grouped_bars_sit_side_by_side_and_stacked_bars_on_each_other():
    series = [Series("Sales", [6, 4]), Series("Refunds", [2, 1])]
    grouped = bars(draw(Chart("g", "G", "G.", ["Jan", "Feb"], series)))
    stacked = bars(draw(Chart("s", "S", "S.", ["Jan", "Feb"], series, stacked=True)))

    assert float(grouped[1].get("x")) > float(grouped[0].get("x"))
    assert grouped[0].get("y") != grouped[1].get("y")
    sales_jan, refunds_jan = stacked[0], stacked[1]
    assert sales_jan.get("x") == refunds_jan.get("x")
    refunds_bottom = float(refunds_jan.get("y")) + float(refunds_jan.get("height"))
    assert refunds_bottom == pytest.approx(float(sales_jan.get("y")))  # on top of the sales


def test_user_text_is_escaped():
    label = 'Lesson <script>alert("x")</script> & more'
    chart = Chart('x"><script>', "Tips & <b>tricks</b>", "Views & <i>sales</i>.", [label, "B"],
                  [Series("Views <em>", [3, 2]), Series("Before & after", [1, 1], style="line")])
    for horizontal in (False, True):
        chart.horizontal = horizontal
        markup = str(chart_svg(chart))
        assert "<script>" not in markup and "<b>" not in markup and "<em>" not in markup
        root = ET.fromstring(markup)  # &, < and quotes are well-formed entities
        assert root.find(f"{SVG}title").text == "Tips & <b>tricks</b>"
        every_text = "".join(root.itertext())
        assert "Views <em>" in every_text and "Before & after" in every_text
        assert any(label in (t.text or "") for t in root.iter(f"{SVG}title"))


@pytest.mark.parametrize("chart", [
    Chart("a", "No series", "Nothing.", DAYS),
    Chart("b", "All zero", "Refunds per day.", DAYS, [Series("Refunds", [0] * 30), Series("Before", [0] * 30, "line")]),
    Chart("c", "No labels", "Nothing.", [], [Series("Sales", [])], unit="money"),
    Chart("d", "No labels, horizontal", "Nothing.", [], [Series("Reached", [])], horizontal=True),
    Chart("e", "All missing", "Nothing.", DAYS[:3], [Series("Rate", [None, None, None])], unit="percent"),
], ids=["no-series", "all-zero", "no-labels", "horizontal", "all-none"])
def test_an_empty_chart_says_so(chart):
    root = draw(chart)

    assert texts(root, "empty") == [EMPTY_TEXT]
    assert not bars(root) and not list(root.iter(f"{SVG}polyline"))
    assert root.find(f"{SVG}desc").text.endswith(f"{EMPTY_TEXT}.")


def test_a_single_bucket_is_one_modest_bar():
    root = draw(Chart("m", "This month", "Net this month.", ["Dec 2026"], [Series("Net", [123_456])], unit="money"))
    (bar,) = bars(root)

    assert float(bar.get("width")) <= 72  # not a slab across the whole chart
    assert texts(root, "x-label") == ["Dec 2026"]
    assert texts(root, "tick")[-1] == "$1,500"


def test_many_buckets_thin_the_axis_labels_so_they_never_overlap():
    labels = [f"d{i}" for i in range(200)]
    root = draw(sales(list(range(200)), labels=labels))
    shown = [t for t in root.iter(f"{SVG}text") if "x-label" in classes(t)]

    assert len(bars(root)) == 199  # the zero is no bar
    assert 2 <= len(shown) <= MAX_X_LABELS
    assert [t.text for t in shown] == [labels[int(re.sub(r"\D", "", t.text))] for t in shown]
    xs = [float(t.get("x")) for t in shown]
    assert all(b - a >= 60 for a, b in zip(xs, xs[1:], strict=False))  # room for ~4 characters at phone size


def test_horizontal_bars_print_values_and_cut_long_labels_keeping_them_whole_in_a_title():
    long = "3. A very long lesson title that goes on and on about the finer points of typography"
    root = draw(Chart("drop", "Lesson drop-off", "Share of learners who reached each lesson.",
                      ["1. Welcome", long], [Series("Reached", [100, 61.5])], unit="percent", horizontal=True))
    rows = [g for g in root.iter(f"{SVG}g") if "bar-row" in classes(g)]

    assert texts(root, "bar-label") == ["1. Welcome", long[: len(texts(root, "bar-label")[1]) - 1].rstrip() + "…"]
    assert len(texts(root, "bar-label")[1]) < len(long)
    assert rows[1].find(f"{SVG}title").text == f"{long}: Reached 61.5%"
    assert texts(root, "value") == ["100%", "61.5%"]
    full, part = bars(root)
    assert float(part.get("width")) / float(full.get("width")) == pytest.approx(0.615, rel=0.01)
    assert float(full.get("y")) < float(part.get("y"))  # one row under the other


def test_horizontal_negative_values_go_left_of_zero():
    root = draw(Chart("n", "Net by course", "Net per course.", ["A", "B"], [Series("Net", [3000, -1000])],
                      unit="money", horizontal=True))
    zeros = {x.get("x1") for x in root.iter(f"{SVG}line") if "zero" in classes(x)}
    assert len(zeros) == 1  # one zero down every row
    (zero,) = [x for x in root.iter(f"{SVG}line") if "zero" in classes(x)][:1]
    positive, negative = bars(root)

    assert float(positive.get("x")) == pytest.approx(float(zero.get("x1")))
    assert float(negative.get("x")) + float(negative.get("width")) == pytest.approx(float(zero.get("x1")))
    assert texts(root, "value") == ["$30.00", "-$10.00"]


def test_a_previous_period_mark_never_covers_a_value():
    root = draw(Chart("q", "Pass rate", "Pass rate per quiz.", ["Quiz"],
                      [Series("Passed", [40]), Series("Previous period", [42], "line")],
                      unit="percent", horizontal=True))
    (mark,) = [x for x in root.iter(f"{SVG}line") if "mark" in classes(x)]
    (value,) = [t for t in root.iter(f"{SVG}text") if "value" in classes(t)]
    assert float(value.get("x")) > float(mark.get("x1"))


def test_the_figure_macro_shows_the_chart_and_every_number(app):
    chart = Chart("revenue", "Revenue & refunds", "Net revenue per day.", ["01 Nov", "02 Nov", "03 Nov"],
                  [Series("Net", [1250, -300, 0]), Series("Previous period", [900, 1000], style="line")],
                  unit="money")
    with app.test_request_context():
        html = render_template_string('{% from "_charts.html" import chart_figure %}{{ chart_figure(chart) }}',
                                      chart=chart)
    root = ET.fromstring(html.replace("<br>", "<br/>"))

    assert root.tag == "figure" and root.get("id") == "revenue"
    assert "Revenue & refunds" in "".join(root.find("figcaption").itertext())
    assert root.find(f"{SVG}svg").get("aria-labelledby") == "revenue-title revenue-desc"
    details = root.find("details")
    assert details.get("open") is None and details.find("summary") is not None
    table = details.find(".//table")
    assert [th.text for th in table.iter("th") if th.get("scope") == "col"] == ["Period", "Net", "Previous period"]
    rows = [[c.text for c in tr] for tr in table.find("tbody")]
    assert rows == [["01 Nov", "$12.50", "$9.00"], ["02 Nov", "-$3.00", "$10.00"], ["03 Nov", "$0.00", "—"]]
    assert all(td.get("class") == "num" for td in table.iter("td"))


def test_the_figure_macro_of_an_empty_chart_says_so_in_its_table(app):
    with app.test_request_context():
        html = render_template_string('{% from "_charts.html" import chart_figure %}{{ chart_figure(chart) }}',
                                      chart=Chart("none", "Sales", "Sales per day.", [], [Series("Sales", [])]))
    assert html.count(EMPTY_TEXT) == 3  # on the chart, in its description and in the table


@pytest.mark.parametrize(("value", "previous", "better", "words", "cls"), [
    (120, 100, "up", "Up 20% on", "good"),
    (80, 100, "up", "Down 20% on", "bad"),
    (5, 2, "down", "Up 150% on", "bad"),
    (-50, 100, "up", "Down 150% on", "bad"),
    (100, 100, "up", "No change on", None),
    (7, None, "up", "No earlier period to compare", None),
])
def test_a_stat_says_which_way_it_moved_in_words(app, value, previous, better, words, cls):
    with app.test_request_context():
        html = render_template_string(
            '{% from "_charts.html" import stat %}{{ stat("Sales", value, previous, "v", "p", better=better) }}',
            value=value, previous=previous, better=better)
    (change,) = re.findall(r'<p class="([^"]*stat-change[^"]*)">(.*?)</p>', html, re.S)
    assert words in re.sub(r"<[^>]+>|▲|▼", "", change[1]).strip().replace("  ", " ")
    assert (cls in change[0].split()) if cls else not {"good", "bad"} & set(change[0].split())
