"""Every model change has its migration: the migrated database matches the models."""

from __future__ import annotations

from core import migrate


def test_migrated_database_matches_every_plugins_models(app):
    r = app.extensions["ruang"]
    diffs = migrate.check(r.plugins, r.settings.sqlalchemy_url)
    assert diffs == [], "models changed without a migration: " + "; ".join(diffs)
