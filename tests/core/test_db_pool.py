"""The PostgreSQL connection pool is the operator's to size (RUANG_DB_POOL_SIZE and
RUANG_DB_MAX_OVERFLOW): a campus exam's reconnect storm needs more than staff pages do."""

from __future__ import annotations

import pytest

from core.app import create_app
from core.config import ConfigError, load_settings

PG_URL = "postgresql+psycopg://ruang:x@127.0.0.1:1/ruang"  # never connected to here


def test_the_pool_takes_its_size_from_the_settings(tmp_path):
    settings = load_settings(environ={"RUANG_DATABASE_URL": PG_URL, "RUANG_DB_POOL_SIZE": "40",
                                      "RUANG_DB_MAX_OVERFLOW": "60", "RUANG_JOBS": "false"},
                             instance=tmp_path)
    app = create_app(settings)
    pool = app.extensions["ruang"].db.engine.pool
    assert pool.size() == 40
    assert pool._max_overflow == 60  # no public reader of the overflow


def test_defaults_stay_modest(tmp_path):
    settings = load_settings(environ={"RUANG_DATABASE_URL": PG_URL}, instance=tmp_path)
    assert (settings.db_pool_size, settings.db_max_overflow) == (10, 20)


@pytest.mark.parametrize("name,value", [("RUANG_DB_POOL_SIZE", "0"),
                                        ("RUANG_DB_MAX_OVERFLOW", "-1"),
                                        ("RUANG_DB_POOL_SIZE", "many")])
def test_a_bad_pool_setting_names_the_variable(tmp_path, name, value):
    with pytest.raises(ConfigError) as exc:
        load_settings(environ={name: value}, instance=tmp_path)
    assert name in str(exc.value)
