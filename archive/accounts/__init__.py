"""Accounts: users, passwords, sign-in sessions, throttling, second factors and the audit log (users.py)."""
