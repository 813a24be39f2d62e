"""Importing this module registers every rollup's event subscribers (app/factory.py SUBSCRIBERS)."""
from app.analytics import learners, money, platform, traffic  # noqa: F401
