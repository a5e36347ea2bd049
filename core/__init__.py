"""Ruang's host: the app factory, plugin manager, hook specifications and shared services.

The core never imports a plugin; plugins reach it through :mod:`core.hookspecs` and the
services in this package.
"""

__version__ = "0.1.0"
