"""Messaging: notifications (stored, then delivered live), mail, chat and DMs."""
