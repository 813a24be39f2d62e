"""The `format_*` Jinja filters (app/blueprints/filters.py): one look for dates, times, money
and percentages, with `<time>` elements in HTML and plain text in the text mails."""
from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

MOMENT = datetime(2026, 12, 7, 9, 5, 42, tzinfo=UTC)


def render(app, source: str, *, name: str = "page.html", **context) -> str:
    """`source` rendered as a template called `name`: its extension decides autoescaping, as
    Flask decides it for the files in templates/."""
    env = app.jinja_env.overlay(autoescape=app.select_jinja_autoescape(name))
    return env.from_string(source).render(**context)


def test_dates_in_html_are_time_elements(app):
    assert render(app, "{{ d|format_date }}", d=MOMENT) == '<time datetime="2026-12-07">07 Dec 2026</time>'
    assert render(app, "{{ d|format_date }}", d=date(2025, 3, 1)) == '<time datetime="2025-03-01">01 Mar 2025</time>'
    assert render(app, "{{ d|format_datetime }}", d=MOMENT) == (
        '<time datetime="2026-12-07T09:05:42Z">07 Dec 2026 09:05 UTC</time>')


def test_dates_in_text_mails_are_plain(app):
    assert render(app, "{{ d|format_date }}", name="mail/x.txt", d=MOMENT) == "07 Dec 2026"
    assert render(app, "{{ d|format_datetime }}", name="mail/x.txt", d=MOMENT) == "07 Dec 2026 09:05 UTC"


def test_no_date_renders_nothing(app):
    assert render(app, "[{{ d|format_date }}{{ d|format_datetime }}]", d=None) == "[]"


@pytest.mark.parametrize("source, context, shown", [
    ("{{ 2999|format_money }}", {}, "$29.99"),
    ("{{ m|format_money(c) }}", {"m": 1999, "c": "EUR"}, "€19.99"),
    ("{{ m|format_money('CHF') }}", {"m": 123456}, "1,234.56 CHF"),
    ("{{ m|format_money }}", {"m": None}, "$0.00"),
    ("{{ p|format_percent }}", {"p": 20}, "20%"),
    ("{{ r|format_percent(bps=True) }}", {"r": 1250}, "12.5%"),
    ("{{ r|format_percent(bps=True) }}", {"r": 1500}, "15%"),
])
def test_money_and_percentages(app, source, context, shown):
    assert render(app, source, **context) == shown
    assert render(app, source, name="mail/x.txt", **context) == shown


def test_the_old_money_filter_is_gone(app):
    assert "money" not in app.jinja_env.filters
    assert {"format_date", "format_datetime", "format_money", "format_percent"} <= set(app.jinja_env.filters)


def test_templates_use_the_filters_not_their_own_formats(app):
    """No template formats a date, a time or a rate by itself (issue #18: nine date formats)."""
    root = app.jinja_loader.searchpath[0]
    offenders = [str(path.relative_to(root)) for path in sorted(Path(root).rglob("*"))
                 if path.suffix in (".html", ".txt")
                 and any(ad_hoc in path.read_text(encoding="utf-8")
                         for ad_hoc in ("strftime", "isoformat", "|money", "/ 100", "rate_percent", "}}%"))]
    assert offenders == []


def test_the_digest_mail_shows_plain_times(app):
    item = {"label": "New sale", "created_at": MOMENT, "text": "Someone bought your course.", "url": None}
    with app.test_request_context():
        body = app.jinja_env.get_template("mail/digest.txt").render(
            user={"display_name": "Carl Creator"}, items=[item])
    assert "- New sale (07 Dec 2026 09:05 UTC): Someone bought your course." in body
    assert "<time" not in body
