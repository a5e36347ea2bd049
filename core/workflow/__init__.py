"""Core area: workflow."""
