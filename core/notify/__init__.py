"""Core area: notify."""
