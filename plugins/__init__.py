"""Ruang's built-in procedure plugins, found through the ``ruang.plugins`` entry-point group."""
