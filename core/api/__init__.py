"""Core area: api."""
