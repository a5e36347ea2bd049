"""The plugin host: a thin layer over pluggy that knows which plugins are switched on.

Plugins are found in the ``ruang.plugins`` entry-point group (the five built-in ones too),
and the core's own features are internal plugins that cannot be switched off. Whether a
plugin is enabled lives in the ``plugin_states`` table; every process re-reads it at most
``RUANG_PLUGIN_REFRESH_S`` seconds after it last did, so a change made by one process takes
effect in all of them without a restart. Hooks of a disabled plugin are not called.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pluggy
from sqlalchemy import Boolean, String, select
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import hookspecs
from core.db import Base, Database, utcnow

if TYPE_CHECKING:
    from core.accounts.models import User

hookimpl = pluggy.HookimplMarker("ruang")
ENTRY_POINT_GROUP = "ruang.plugins"

# The core's own features, written as plugins of the same API (datasette's lesson: the
# API stays honest when the host uses it too). They are always enabled.
CORE_PLUGINS: tuple[str, ...] = (
    "core.system",
    "core.accounts.plugin",
    "core.audit.plugin",
    "core.records.plugin",
    "core.certificates.plugin",
    "core.workflow.plugin",
    "core.notify.plugin",
    "core.scheduler.plugin",
    "core.rooms.plugin",
    "core.api.plugin",
    "core.web.plugin",
)


class PluginError(ValueError):
    """A plugin name is unknown, or the requested change is not allowed."""


class PluginState(Base):
    """Whether a plugin is enabled; a plugin without a row is enabled."""

    __tablename__ = "plugin_states"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by: Mapped[int | None] = mapped_column(default=None)


@dataclass(frozen=True)
class PluginInfo:
    name: str
    version: str
    origin: str  # "core", "built-in", or "package <distribution>"
    description: str
    module: Any

    @property
    def package(self) -> str:
        """The import prefix whose modules belong to this plugin."""
        mod = self.module
        pkg = getattr(mod, "__package__", None) or getattr(mod, "__name__", "")
        return str(pkg)

    @property
    def switchable(self) -> bool:
        return self.origin != "core"


class PluginHost:
    """Loads plugins, answers which are enabled, and calls hooks of enabled plugins only."""

    def __init__(self, db: Database, refresh_s: float = 1.0) -> None:
        self.db = db
        self.refresh_s = refresh_s
        self.pm = pluggy.PluginManager("ruang")
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}
        self._enabled: dict[str, bool] = {}
        self._loaded_at = 0.0
        self._lock = threading.Lock()
        self._subset_cache: dict[tuple[str, frozenset[str]], Any] = {}

    # -- loading ------------------------------------------------------------------------

    def load(self, *, entry_points: bool = True, extra: Iterable[Any] = ()) -> None:
        for modname in CORE_PLUGINS:
            module = importlib.import_module(modname)
            name = modname.split(".")[1]  # "core.audit.plugin" -> "audit"
            self._register(name, module, "core", _version("ruang"))
        if entry_points:
            for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
                dist_name: str = ep.dist.name if ep.dist else "?"
                origin = "built-in" if dist_name == "ruang" else f"package {dist_name}"
                version: str = ep.dist.version if ep.dist else "0"
                self._register(ep.name, ep.load(), origin, version)
        for obj in extra:
            label = getattr(obj, "RUANG_PLUGIN_NAME", None) or getattr(obj, "__name__", "extra")
            self._register(str(label), obj, "package (test)", str(getattr(obj, "VERSION", "0")))
        self.pm.check_pending()

    def _register(self, name: str, module: Any, origin: str, version: str) -> None:
        if name in self.plugins:
            raise PluginError(f"two plugins are named {name!r}")
        doc = (getattr(module, "__doc__", None) or "").strip().splitlines()
        self.pm.register(module, name=name)
        self.plugins[name] = PluginInfo(name, version, origin, doc[0] if doc else "", module)

    # -- state --------------------------------------------------------------------------

    def refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._loaded_at < self.refresh_s:
            return
        with self._lock:
            if not force and now - self._loaded_at < self.refresh_s:
                return
            try:
                with self.db.session() as session:
                    rows = session.execute(select(PluginState.name, PluginState.enabled)).all()
            except (OperationalError, ProgrammingError):
                # Not migrated yet (``ruang db upgrade`` runs inside an app): defaults apply,
                # and the table is read again on the next call.
                self._enabled = {name: True for name in self.plugins}
                return
            states = {name: bool(enabled) for name, enabled in rows}
            self._enabled = {
                name: (not info.switchable) or states.get(name, True)
                for name, info in self.plugins.items()
            }
            self._loaded_at = time.monotonic()

    def is_enabled(self, name: str) -> bool:
        self.refresh()
        return self._enabled.get(name, False)

    def enabled_names(self) -> list[str]:
        self.refresh()
        return [n for n, on in self._enabled.items() if on]

    def get(self, name: str) -> PluginInfo:
        try:
            return self.plugins[name]
        except KeyError:
            known = ", ".join(sorted(n for n, p in self.plugins.items() if p.switchable))
            raise PluginError(f"no plugin named {name!r}; installed plugins: {known}") from None

    def set_enabled(self, session: Session, name: str, enabled: bool, actor: User | None) -> bool:
        """Switch plugin ``name`` on or off inside ``session``; returns whether it changed."""
        from core.audit.service import record as audit

        info = self.get(name)
        if not info.switchable:
            raise PluginError(f"{name!r} is part of the core and cannot be switched off")
        row = session.get(PluginState, name)
        before = True if row is None else row.enabled
        if row is None:
            row = PluginState(name=name, enabled=enabled)
            session.add(row)
        row.enabled = enabled
        row.changed_at = utcnow()
        row.changed_by = actor.id if actor else None
        if before == enabled:
            return False
        audit(
            session,
            "plugin.enable" if enabled else "plugin.disable",
            actor=actor,
            object_type="plugin",
            object_id=name,
        )
        # The plugin being disabled hears about it too, so it can stop its own work.
        self.pm.hook.ruang_plugin_toggled(session=session, name=name, enabled=enabled)
        session.flush()
        self._loaded_at = 0.0
        return True

    # -- ownership ----------------------------------------------------------------------

    def owner_of(self, module_name: str) -> str | None:
        """The plugin that owns Python module ``module_name``, or ``None``."""
        best: tuple[int, str] | None = None
        for name, info in self.plugins.items():
            pkg = info.package
            owns = module_name == pkg or module_name.startswith(pkg + ".")
            if owns and (best is None or len(pkg) > best[0]):
                best = (len(pkg), name)
        return best[1] if best else None

    def name_of(self, plugin_obj: Any) -> str | None:
        return self.pm.get_name(plugin_obj)

    # -- calling hooks ------------------------------------------------------------------

    @property
    def hook(self) -> _EnabledHooks:
        """Hook callers that skip disabled plugins: ``host.hook.ruang_menu_items(user=u)``."""
        return _EnabledHooks(self)

    @property
    def all_hook(self) -> Any:
        """Hook callers over every installed plugin, enabled or not (migrations, models)."""
        return self.pm.hook

    def collect(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call a collecting hook on enabled plugins and flatten the lists they return."""
        results = getattr(self.hook, hook_name)(**kwargs)
        return [item for result in results if result for item in result]

    def collect_by_plugin(self, hook_name: str, *, enabled_only: bool = True, **kwargs: Any
                          ) -> list[tuple[str, Any]]:
        """Like :meth:`collect`, but each item comes with the name of the plugin it is from."""
        out: list[tuple[str, Any]] = []
        names = set(self.enabled_names()) if enabled_only else set(self.plugins)
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
            if impl.plugin_name not in names:
                continue
            result = impl.function(**{k: kwargs[k] for k in impl.argnames})
            for item in result or ():
                out.append((impl.plugin_name, item))
        return out

    def _caller(self, hook_name: str) -> Any:
        self.refresh()
        disabled = frozenset(n for n, on in self._enabled.items() if not on)
        if not disabled:
            return getattr(self.pm.hook, hook_name)
        key = (hook_name, disabled)
        caller = self._subset_cache.get(key)
        if caller is None:
            objs = [self.plugins[n].module for n in disabled]
            caller = self.pm.subset_hook_caller(hook_name, remove_plugins=objs)
            self._subset_cache[key] = caller
        return caller


class _EnabledHooks:
    def __init__(self, host: PluginHost) -> None:
        self._host = host

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("ruang_"):
            raise AttributeError(name)
        return self._host._caller(name)


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "0"
