"""Accounts: users, admin permissions, sign-up and log-in, OAuth, profile."""
