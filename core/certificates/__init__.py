"""Issued certificates, shared by every plugin that prints one: numbers and codes, the
QR code, revocation, and the one public verification page."""
