"""Server-rendered SVG charts (issue 17, part 3).

A Chart is data only (app/analytics/charts.py: the analytics sections build them). `chart_svg(chart)` draws it as
inline SVG; the `chart_figure` macro in templates/_charts.html puts it in a <figure> with the
numbers in a table under <details>, so it reads without JavaScript, without images and on paper.

Why this small module and not a library: the issue allows pygal or an internal module. pygal's
SVG references a script by default (pygal-tooltips, from a CDN; its tooltips need it), carries
its own <style> block with the colours of each chart, and gives little control over the
accessible name, the <desc>, label truncation and the markup a screen reader walks. What we
need is narrow (column charts over time, with the previous period drawn as a line, and
horizontal bar charts), so it is a few hundred lines we test (tests/web/test_charts.py), with
no JavaScript at all and every colour in app.css.

What it draws:
- Column charts (time): 1–4 bar series side by side (or stacked with `stacked=True`), and
  `style="line"` series as dashed polylines with points over the bars (the previous period).
  A y-axis of 3–5 "nice" ticks (1, 2, 2.5 or 5 × 10^n) formatted by the chart's unit, a zero
  line, negative values below it; x-axis labels thinned to at most 8.
- Horizontal bar charts (`horizontal=True`: lessons, questions, sources): one row per label,
  the label above its bar (cut with "…" when long, the full text in the row's <title>) and the
  value printed at the bar's end.
- A text legend (a swatch or a line sample beside each series name: never colour alone).
- "No data in this period" when there is nothing to draw (no labels, no series, all zeros).

Sizes: the SVG has a viewBox and no fixed size, so it scales to its container. The text size
is set by app.css ("Analytics charts") in viewBox units that grow as the figure narrows, so
labels stay about 12 px on a 360 px phone and on a desktop; the layout here reserves room for
the largest of those sizes (FONT), which is why labels are thinned and truncated by it.
Colours come from CSS classes (series-N, line-N), never inline fills, so print and a dark theme
can restyle them. Every piece of text is escaped (labels are course and lesson titles).
"""
from __future__ import annotations

import math
from decimal import Decimal

from markupsafe import Markup, escape

from app.analytics.charts import Chart, Series
from app.money import format_money

EMPTY_TEXT = "No data in this period"

WIDTH = 640  # the viewBox's width; heights follow from the content
FONT = 24  # the largest font-size (viewBox units) app.css gives chart text: layout is sized for it
CHAR = FONT * 0.6  # an average character's width at that size (a little generous)
LINE = FONT * 1.25  # one line of text
MAX_X_LABELS = 8
PLOT_HEIGHT = 240  # the column chart's drawing area
SERIES_COLOURS = 6  # CSS classes series-1..6 (bars) and line-1..3 (lines), used in turn
LINE_STYLES = 3
POINTS_UP_TO = 60  # a line draws a point per value up to this many buckets
MAX_BAR = 72  # a column is at most this wide (one bucket must not fill the chart)


def chart_svg(chart: Chart) -> Markup:
    """The chart as an inline <svg role="img"> named by its <title> and <desc>."""
    bars = [s for s in chart.series if s.style != "line"]
    lines = [s for s in chart.series if s.style == "line"]
    if chart.horizontal and not bars:  # rows need a bar to carry their value
        bars, lines = lines, []
    n = len(chart.labels)
    empty = n == 0 or not any(v for s in chart.series for v in _values(s, n) if v is not None)
    legend, legend_h = ([], 0) if empty else _legend(bars, lines)
    if empty:
        body, height = _empty(chart, n)
    elif chart.horizontal:
        body, height = _horizontal(chart, bars, lines, n, legend_h)
    else:
        body, height = _columns(chart, bars, lines, n, legend_h)
    kind = "chart-bars" if chart.horizontal else "chart-columns"
    cid = escape(chart.id)
    desc = _description(chart, n, empty)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg {kind}" viewBox="0 0 {WIDTH} {_n(height)}" '
        f'preserveAspectRatio="xMinYMin meet" role="img" aria-labelledby="{cid}-title {cid}-desc">'
        f'<title id="{cid}-title">{escape(chart.title)}</title><desc id="{cid}-desc">{escape(desc)}</desc>'
        + "".join(legend) + "".join(body) + "</svg>"
    )


# ---------------------------------------------------------------------------------------------
# Scales and text


def nice_ticks(low: float, high: float, *, integer: bool = False) -> list[float]:
    """3–5 evenly spaced ticks covering [low, high] (which include 0), stepping 1, 2, 2.5 or 5 ×
    10^n; `integer` keeps the step whole (counts, minor units of money)."""
    low, high = min(low, 0.0), max(high, 0.0)
    span = high - low or 1.0
    exponent = math.floor(math.log10(span / 4))
    lowest = max(exponent - 1, 0) if integer else exponent - 1
    for e in range(lowest, max(exponent, lowest) + 3):
        for mantissa in ("1", "2", "2.5", "5"):
            step = Decimal(mantissa).scaleb(e)
            if integer and (step < 1 or step != step.to_integral_value()):
                continue
            s = float(step)
            first, last = math.floor(low / s + 1e-9), math.ceil(high / s - 1e-9)
            if last - first > 4:
                continue
            while last - first < 2:  # at least three ticks: widen on the side the data is on
                if high > 0 or low == 0:
                    last += 1
                else:
                    first -= 1
            return [float(step * k) for k in range(first, last + 1)]
    return [0.0, float(high)]  # not reached: some step always fits


def _tick_labels(chart: Chart, ticks: list[float], days: bool) -> list[str]:
    """The ticks' labels in the chart's unit, shorter than in the table: $1,200 rather than
    $1,200.00 when every tick is whole, $12.5k and 1.2M past ten thousand, hours as days when
    the axis goes past two days. One style for the whole axis."""
    step = ticks[1] - ticks[0]
    top = max(abs(t) for t in ticks)
    if chart.unit == "money":
        if top / 100 >= 10_000:
            return [_compact(t / 100, top / 100, _symbol(chart.currency), chart.currency) for t in ticks]
        texts = [format_money(int(round(t)), chart.currency) for t in ticks]
        return [t.replace(".00", "", 1) for t in texts] if step % 100 == 0 else texts
    if chart.unit == "hours":
        return [f"{_g(t / 24)} days" if days else f"{_g(t)} h" for t in ticks]
    if chart.unit == "percent":
        return [f"{_g(t)}%" for t in ticks]
    if top >= 10_000:
        return [_compact(t, top, "", "") for t in ticks]
    return [_g(t) for t in ticks]


def _compact(value: float, top: float, symbol: str, code: str) -> str:
    """12500 -> 12.5k, 1500000 -> 1.5M (the suffix chosen by the axis' largest tick)."""
    divisor, suffix = (1_000_000, "M") if top >= 1_000_000 else (1000, "k")
    sign = "-" if value < 0 else ""
    text = f"{sign}{symbol}{_g(abs(value) / divisor)}{suffix}" if value else f"{symbol}0"
    return f"{text} {code}" if code and not symbol else text


def _symbol(currency: str) -> str:
    symbol = format_money(0, currency).replace("0.00", "").strip()
    return symbol if symbol != currency else ""


def _g(number: float) -> str:
    """A number without trailing zeros: 2, 2.5, 0.25; thousands separated."""
    text = f"{round(number, 6):,.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _n(number: float) -> str:
    """A coordinate: two decimals at most."""
    return _g(round(number, 2)).replace(",", "")


def _cut(text: str, chars: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= chars else text[: max(chars - 1, 1)].rstrip() + "…"


def _values(series: Series, n: int) -> list[float | None]:
    """The series' first n values, None where missing or not a finite number."""
    out: list[float | None] = []
    for i in range(n):
        v = series.values[i] if i < len(series.values) else None
        out.append(float(v) if v is not None and math.isfinite(v) else None)
    return out


def _text(x: float, y: float, text: str, cls: str, anchor: str = "start", baseline: str = "central") -> str:
    """Text placed by its middle (or its top for "hanging", its foot for "alphabetic"): it stays
    in place whatever size the CSS gives it."""
    return (f'<text class="{cls}" x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" dominant-baseline="{baseline}">'
            f'{escape(text)}</text>')


def _description(chart: Chart, n: int, empty: bool) -> str:
    """The chart's sentence, then each series' highest and lowest value for a screen reader."""
    sentence = chart.description.strip()
    parts = [sentence + ("" if not sentence or sentence[-1] in ".!?" else ".")]
    if empty:
        parts.append(f"{EMPTY_TEXT}.")
    else:
        for series in chart.series[:4]:
            pairs = [(v, chart.labels[i]) for i, v in enumerate(_values(series, n)) if v is not None]
            if not pairs:
                continue
            high, low = max(pairs, key=lambda p: p[0]), min(pairs, key=lambda p: p[0])
            if len(pairs) == 1:
                parts.append(f"{series.name}: {chart.format(high[0])} ({high[1]}).")
            else:
                parts.append(f"{series.name}: highest {chart.format(high[0])} ({high[1]}), "
                             f"lowest {chart.format(low[0])} ({low[1]}).")
    return " ".join(p for p in parts if p)


# ---------------------------------------------------------------------------------------------
# Pieces


def _legend(bars: list[Series], lines: list[Series]) -> tuple[list[str], float]:
    """Each series' name beside its swatch (bars) or a sample of its line, wrapped in rows."""
    out = ['<g class="legend">']
    x, y = 0.0, 0.0
    for kind, index, series in [("bar", i, s) for i, s in enumerate(bars)] + \
                               [("line", i, s) for i, s in enumerate(lines)]:
        name = _cut(series.name, 30)
        item_w = (22 if kind == "bar" else 36) + len(name) * CHAR + 24
        if x > 0 and x + item_w > WIDTH:
            x, y = 0.0, y + LINE
        middle = y + LINE / 2
        if kind == "bar":
            out.append(f'<rect class="swatch {_bar_class(index)}" x="{_n(x)}" y="{_n(middle - 8)}" '
                       'width="16" height="16"/>')
        else:
            cls = _line_class(index, solid=not bars and index == 0)
            out.append(f'<line class="{cls}" x1="{_n(x)}" y1="{_n(middle)}" x2="{_n(x + 28)}" y2="{_n(middle)}"/>'
                       f'<circle class="point {cls}" cx="{_n(x + 14)}" cy="{_n(middle)}" r="4"/>')
        out.append(_text(x + (22 if kind == "bar" else 36), middle, name, "legend-text"))
        x += item_w
    out.append("</g>")
    return out, y + LINE + 8


def _bar_class(index: int) -> str:
    return f"series series-{index % SERIES_COLOURS + 1}"


def _line_class(index: int, *, solid: bool) -> str:
    return f"line line-{index % LINE_STYLES + 1}" + (" line-solid" if solid else "")


def _empty(chart: Chart, n: int) -> tuple[list[str], float]:
    height = 160.0
    base = height - LINE - 8
    out = [f'<line class="zero" x1="0" y1="{_n(base)}" x2="{WIDTH}" y2="{_n(base)}"/>',
           _text(WIDTH / 2, base / 2, EMPTY_TEXT, "empty", "middle")]
    if n and not chart.horizontal:
        out += _x_labels(chart.labels, 0, WIDTH, base)
    return out, height


def _x_labels(labels: list[str], left: float, width: float, base: float) -> list[str]:
    """At most MAX_X_LABELS of the labels, evenly spaced, none overlapping at FONT size."""
    n = len(labels)
    longest = min(max(len(str(label)) for label in labels), 14)
    fits = int(width // (longest * CHAR + 16))
    shown = max(1, min(MAX_X_LABELS, fits, n))
    every = math.ceil(n / shown)
    group = width / n
    out = ['<g class="x-axis">']
    free = 0.0  # where the previous label ends: a label that would overlap it is left out
    for i in range(0, n, every):
        text = _cut(labels[i], 14)
        centre = left + group * (i + 0.5)
        text_w = len(text) * CHAR
        x, anchor, start = centre, "middle", centre - text_w / 2
        if start < 0:
            x, anchor, start = 0.0, "start", 0.0
        elif centre + text_w / 2 > WIDTH:
            x, anchor, start = float(WIDTH), "end", WIDTH - text_w
        if start < free:
            continue
        free = start + text_w + 8
        out.append(f'<line class="tick-mark" x1="{_n(centre)}" y1="{_n(base)}" x2="{_n(centre)}" y2="{_n(base + 6)}"/>')
        out.append(_text(x, base + 8, text, "x-label", anchor, "hanging"))
    out.append("</g>")
    return out


def _columns(chart: Chart, bars: list[Series], lines: list[Series], n: int, top: float) -> tuple[list[str], float]:
    bar_values = [_values(s, n) for s in bars]
    line_values = [_values(s, n) for s in lines]
    plotted = [v for vs in line_values for v in vs if v is not None]
    if chart.stacked and bar_values:
        for i in range(n):
            plotted.append(sum(vs[i] for vs in bar_values if vs[i] is not None and vs[i] > 0))
            plotted.append(sum(vs[i] for vs in bar_values if vs[i] is not None and vs[i] < 0))
    else:
        plotted += [v for vs in bar_values for v in vs if v is not None]
    low, high = min(plotted + [0.0]), max(plotted + [0.0])
    days = chart.unit == "hours" and max(abs(low), abs(high)) >= 48
    scale = 24.0 if days else 1.0
    ticks = [t * scale for t in nice_ticks(low / scale, high / scale, integer=chart.unit in ("count", "money"))]
    labels = _tick_labels(chart, ticks, days)

    plot_top = top + FONT * 0.5
    plot_bottom = plot_top + PLOT_HEIGHT
    left = max(len(label) for label in labels) * CHAR + 10
    right = WIDTH - 4
    width = right - left

    def y(value: float) -> float:
        return plot_top + (ticks[-1] - value) / (ticks[-1] - ticks[0]) * PLOT_HEIGHT

    zero = y(0.0)
    out = ['<g class="y-axis">']
    for tick, label in zip(ticks, labels, strict=True):
        if tick != 0:
            out.append(f'<line class="grid" x1="{_n(left)}" y1="{_n(y(tick))}" x2="{_n(right)}" y2="{_n(y(tick))}"/>')
        out.append(_text(left - 8, y(tick), label, "tick", "end"))
    out.append("</g>")

    group = width / n
    gap = group * 0.2 if group >= 4 else 0.0
    inner = group - gap
    columns = 1 if chart.stacked else max(len(bars), 1)
    bar_w = min(inner / columns, MAX_BAR)
    out.append('<g class="bars">')
    for i, label in enumerate(chart.labels):
        x0 = left + group * i + (group - bar_w * columns) / 2
        up, down = 0.0, 0.0  # stacked: where the next bar starts above and below zero
        for k, (series, values) in enumerate(zip(bars, bar_values, strict=True)):
            v = values[i]
            if not v:
                continue
            if chart.stacked:
                base = up if v > 0 else down
                top_v, bottom_v = (base + v, base) if v > 0 else (base, base + v)
                if v > 0:
                    up += v
                else:
                    down += v
                x = x0
            else:
                top_v, bottom_v = (v, 0.0) if v > 0 else (0.0, v)
                x = x0 + k * bar_w
            sign = " negative" if v < 0 else ""
            out.append(f'<rect class="bar {_bar_class(k)}{sign}" x="{_n(x)}" y="{_n(y(top_v))}" '
                       f'width="{_n(max(bar_w, 0.5))}" height="{_n(y(bottom_v) - y(top_v))}">'
                       f'<title>{escape(label)}: {escape(series.name)} {escape(chart.format(v))}</title></rect>')
    out.append("</g>")
    out.append(f'<line class="zero" x1="{_n(left)}" y1="{_n(zero)}" x2="{_n(right)}" y2="{_n(zero)}"/>')

    for k, (series, values) in enumerate(zip(lines, line_values, strict=True)):
        cls = _line_class(k, solid=not bars and k == 0)
        out.append(f'<g class="line-series {cls.split()[1]}">')
        segment: list[str] = []
        for i, v in enumerate(values + [None]):
            if v is not None:
                segment.append(f"{_n(left + group * (i + 0.5))},{_n(y(v))}")
            elif segment:
                out.append(f'<polyline class="{cls}" points="{" ".join(segment)}"/>')
                segment = []
        if n <= POINTS_UP_TO:
            for i, v in enumerate(values):
                if v is not None:
                    out.append(f'<circle class="point {cls}" cx="{_n(left + group * (i + 0.5))}" cy="{_n(y(v))}" r="4">'
                               f'<title>{escape(chart.labels[i])}: {escape(series.name)} '
                               f'{escape(chart.format(v))}</title></circle>')
        out.append("</g>")

    out += _x_labels(chart.labels, left, width, plot_bottom)
    return out, plot_bottom + 6 + LINE + 6


def _horizontal(chart: Chart, bars: list[Series], lines: list[Series], n: int, top: float) -> tuple[list[str], float]:
    """One row per label: the label, then a bar per bar series with its value at the end, and a
    line series as a dashed mark across the row (e.g. the previous period)."""
    bar_values = [_values(s, n) for s in bars]
    line_values = [_values(s, n) for s in lines]
    everything = [v for vs in bar_values + line_values for v in vs if v is not None]
    low, high = min(everything + [0.0]), max(everything + [0.0])
    if chart.unit == "percent" and low >= 0 and high <= 100:
        high = 100.0  # shares are drawn out of the whole
    texts = [chart.format(v) for v in everything]
    room = max(len(t) for t in texts) * CHAR + 10
    left = room if low < 0 else 0.0
    right = WIDTH - room
    span = (high - low) or 1.0

    def x(value: float) -> float:
        return left + (value - low) / span * (right - left)

    zero = x(0.0)
    bar_h = 22.0 if len(bars) <= 1 else 20.0
    pitch = bar_h + 4
    row_h = LINE + max(len(bars), 1) * pitch + 14
    label_chars = int(WIDTH // CHAR)
    out = []
    y = top
    for i, label in enumerate(chart.labels):
        summary = ", ".join(f"{s.name} {chart.format(vs[i])}" for s, vs in zip(bars + lines, bar_values + line_values,
                                                                              strict=True))
        out.append(f'<g class="bar-row"><title>{escape(label)}: {escape(summary)}</title>')
        bars_top = y + LINE + 4
        out.append(_text(0, bars_top - 6, _cut(label, label_chars), "bar-label", baseline="alphabetic"))
        for k, values in enumerate(bar_values):
            v = values[i]
            top_k = bars_top + k * pitch
            if v is None:
                continue
            start, end = sorted((zero, x(v)))
            if end - start > 0:
                sign = " negative" if v < 0 else ""
                out.append(f'<rect class="bar {_bar_class(k)}{sign}" x="{_n(start)}" y="{_n(top_k)}" '
                           f'width="{_n(end - start)}" height="{_n(bar_h)}"/>')
            tx, anchor = _clear_of_marks(x(v), len(chart.format(v)) * CHAR, v < 0,
                                         [x(vs[i]) for vs in line_values if vs[i] is not None])
            out.append(_text(tx, top_k + bar_h / 2, chart.format(v), "value", anchor))
        rows_bottom = bars_top + max(len(bars), 1) * pitch - 4
        for k, values in enumerate(line_values):
            v = values[i]
            if v is not None:
                cls = _line_class(k, solid=not bars and k == 0)
                out.append(f'<line class="{cls} mark" x1="{_n(x(v))}" y1="{_n(bars_top - 4)}" '
                           f'x2="{_n(x(v))}" y2="{_n(rows_bottom + 4)}"/>')
        if low < 0:  # the zero, beside the bars and clear of the label (without negatives: the left edge)
            out.append(f'<line class="zero" x1="{_n(zero)}" y1="{_n(bars_top - 4)}" x2="{_n(zero)}" '
                       f'y2="{_n(rows_bottom + 4)}"/>')
        out.append("</g>")
        y += row_h
    return out, y


def _clear_of_marks(end: float, text_w: float, negative: bool, marks: list[float]) -> tuple[float, str]:
    """Where a bar's value goes: just past the bar's end, or past a line's mark it would cross."""
    if negative:
        x = end - 8
        for mark in sorted(marks, reverse=True):
            if x - text_w - 4 <= mark <= x + 4:
                x = mark - 8
        return x, "end"
    x = end + 8
    for mark in sorted(marks):
        if x - 4 <= mark <= x + text_w + 4:
            x = mark + 8
    return x, "start"
