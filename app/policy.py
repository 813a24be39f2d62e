"""The one authorisation entry point (ARCHITECTURE §8).

Each rule is a pure predicate `can_<verb>_<noun>(actor, obj) -> bool` in its domain's
`permissions.py`. Services enforce rules with `require(...)`; templates call the same
predicates (registered as Jinja globals by `register_predicates`) only to hide controls.
"""
from __future__ import annotations

import importlib
from types import ModuleType

from app.errors import NotAllowed

PERMISSION_MODULES = (
    "app.accounts.permissions",
    "app.catalog.permissions",
    "app.learning.permissions",
    "app.messaging.permissions",
    "app.moderation.permissions",
)


def require(allowed: bool, action: str) -> None:
    """Raise NotAllowed("<action>") unless the predicate said yes."""
    if not allowed:
        raise NotAllowed(action)


def predicates() -> dict[str, object]:
    found: dict[str, object] = {}
    for name in PERMISSION_MODULES:
        module: ModuleType = importlib.import_module(name)
        for attr in dir(module):
            if attr.startswith("can_"):
                found[attr] = getattr(module, attr)
    return found


def register_predicates(app) -> None:
    app.jinja_env.globals.update(predicates())
