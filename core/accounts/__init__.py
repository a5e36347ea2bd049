"""Accounts and access: users, roles, divisions, passwords, sign-in and permissions."""
