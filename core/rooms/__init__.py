"""Core area: rooms."""
