"""Moved to `app/money.py` (Money is a kernel value type: every domain prices or shows amounts).

Kept only so that `app/catalog/courses.py` still imports; that package is being changed by
another part of issue #15, which switches it to `app.money`. Then delete this module.
"""
from app.money import MAX_AMOUNT, SYMBOLS, Money, format_money, parse_amount

__all__ = ["MAX_AMOUNT", "SYMBOLS", "Money", "format_money", "parse_amount"]
