"""A table of figures: what the page shows of it and what its CSV holds."""
from __future__ import annotations

from datetime import date

from flask import render_template_string

from app.analytics.tables import Column, Table


def make_table(shown=None) -> Table:
    return Table("sales-by-creator", "Sales by creator",
                 [Column("Creator", "link"), Column("Sales"), Column("Gross", "money"), Column("Refund rate", "percent"),
                  Column("First sale", "date")],
                 [[("Chris", "/admin/users/2"), 1200, (123456, "USD"), 4.5, date(2026, 11, 2)],
                  [("=HYPERLINK()", "/admin/users/3"), 3, (199, "EUR"), None, None],
                  [("Dana", "/admin/users/4"), 0, (0, "USD"), 0, date(2026, 12, 1)]], shown=shown)


def test_the_csv_has_every_row_with_plain_values():
    assert make_table(shown=1).csv_rows() == [
        ["Creator", "Sales", "Gross", "Refund rate", "First sale"],
        ["Chris", "1200", "1234.56 USD", "4.5", "2026-11-02"],
        ["=HYPERLINK()", "3", "1.99 EUR", "", ""],
        ["Dana", "0", "0.00 USD", "0", "2026-12-01"]]


def test_the_page_shows_the_first_rows_and_says_the_csv_has_them_all(app):
    with app.test_request_context():
        html = render_template_string('{% from "_charts.html" import figures_table %}{{ figures_table(t, "/x.csv") }}',
                                      t=make_table(shown=2))
    assert html.count("<tr>") == 3  # the header and two rows
    assert "The first 2 of 3; the CSV has every one." in html
    assert "$1,234.56" in html and "Dana" not in html


def test_a_table_without_a_limit_shows_every_row(app):
    with app.test_request_context():
        html = render_template_string('{% from "_charts.html" import figures_table %}{{ figures_table(t) }}',
                                      t=make_table())
    assert html.count("<tr>") == 4 and "The first" not in html and "Dana" in html
