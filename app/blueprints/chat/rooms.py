"""Course chat room pages and the room socket."""
from __future__ import annotations

from app.blueprints.chat import bp  # noqa: F401
