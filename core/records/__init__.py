"""Core area: records."""
