"""Who sees which figures (pure rules, used through app.policy.require)."""
from __future__ import annotations


def _signed_in(actor) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False)


def can_view_platform_analytics(actor) -> bool:
    """The platform's money and queues are for admins who manage finance."""
    return _signed_in(actor) and actor.has_permission("manage_finance")


def can_view_creator_analytics(actor, creator_id: int) -> bool:
    """A creator sees their own figures (suspended or not: it is their money); a finance admin
    sees anyone's, read-only."""
    return _signed_in(actor) and (actor.id == creator_id or can_view_platform_analytics(actor))
