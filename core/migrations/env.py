"""Alembic environment shared by every plugin's migrations."""

from __future__ import annotations

import sys
from typing import Any

from alembic import context
from sqlalchemy import create_engine, pool

from core.db import Base

config = context.config
host = config.attributes.get("ruang_host")
only_plugin = config.attributes.get("ruang_only_plugin")

_owner_by_table: dict[str, str | None] = {}
if host is not None:
    for mapper in Base.registry.mappers:
        table = getattr(mapper, "local_table", None)
        if table is not None:
            _owner_by_table[table.name] = host.owner_of(mapper.class_.__module__)


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    if only_plugin is None:
        return True
    table = obj if type_ == "table" else getattr(obj, "table", None)
    table_name = getattr(table, "name", name)
    # Tables this plugin does not own (another plugin's, or not yet migrated) are left alone.
    return _owner_by_table.get(str(table_name)) == only_plugin


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            include_object=include_object,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    sys.exit("offline migrations are not supported; run `ruang db upgrade`")
run_migrations_online()
