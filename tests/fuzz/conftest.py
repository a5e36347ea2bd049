"""Hypothesis profiles for the fuzz tests.

``ci`` (the default) keeps every property to a few dozen examples so that the fuzz tests
run in seconds; ``HYPOTHESIS_PROFILE=deep`` runs a thousand examples each, for a night.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_quiet = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
          HealthCheck.data_too_large]
settings.register_profile("ci", max_examples=40, deadline=None, suppress_health_check=_quiet,
                          derandomize=False, print_blob=True)
settings.register_profile("deep", max_examples=1000, deadline=None,
                          suppress_health_check=_quiet, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
