"""Moderation: reports, suspensions and the audit log of every admin action."""
