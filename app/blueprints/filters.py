"""Jinja filters shared by every template: one `format_*` set, so that a date, a time, an
amount or a percentage looks the same on every page and in every e-mail (issue #15, #18).

    {{ course.updated_at|format_date }}         <time datetime="2026-12-07">07 Dec 2026</time>
    {{ post.created_at|format_datetime }}       <time datetime="2026-12-07T09:05:00Z">07 Dec 2026 09:05 UTC</time>
    {{ order.price_minor|format_money(order.currency) }}   $29.99   (currency defaults to USD)
    {{ grade.score_percent|format_percent }}    50%        (a number of percent)
    {{ rate_bps|format_percent(bps=True) }}     12.5%      (basis points, as rates are stored)
    {{ lesson.body|markdown }}                  sanitised HTML (app/rendering.py)

The date filters return a `<time>` element in HTML templates and plain text ("07 Dec 2026",
"07 Dec 2026 09:05 UTC") where autoescaping is off, i.e. in the plain-text mails
(templates/mail/*.txt): the same filter name in both, and no tags can leak into an e-mail.
The text itself comes from app/formatting.py, which Python code calls for the same output.
None gives an empty string (an amount of None gives 0, as the old `money` filter did).
"""
from __future__ import annotations

from datetime import date, datetime

from flask import Flask
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext

from app.blueprints.charts import chart_svg
from app.formatting import (
    date_element,
    datetime_element,
    format_date,
    format_datetime,
    format_money,
    format_percent,
    iso_date,
)
from app.rendering import render_markdown


@pass_eval_context
def _date(eval_ctx: EvalContext, value: date | datetime | None):
    return date_element(value) if eval_ctx.autoescape else format_date(value)


@pass_eval_context
def _datetime(eval_ctx: EvalContext, value: datetime | None):
    return datetime_element(value) if eval_ctx.autoescape else format_datetime(value)


def _money(minor: int | None, currency: str = "USD") -> str:
    return format_money(int(minor or 0), currency)


def register_filters(app: Flask) -> None:
    app.jinja_env.filters.update(
        format_date=_date,
        format_datetime=_datetime,
        format_money=_money,
        format_percent=format_percent,
        iso_date=iso_date,  # machine-readable: a date input's value
        markdown=render_markdown,
    )
    app.jinja_env.globals["chart_svg"] = chart_svg  # templates/_charts.html
