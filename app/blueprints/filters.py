"""Jinja filters shared by every template."""
from __future__ import annotations

from flask import Flask

from app.money import format_money
from app.rendering import render_markdown


def register_filters(app: Flask) -> None:
    app.jinja_env.filters["money"] = lambda minor, currency="USD": format_money(int(minor or 0), currency)
    app.jinja_env.filters["markdown"] = render_markdown
