"""Direct messages: inbox, conversations, blocks, and the live stream."""
from __future__ import annotations

from app.blueprints.chat import bp  # noqa: F401
