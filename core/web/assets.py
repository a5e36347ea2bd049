"""Front-end packages from npm, served by Ruang itself under ``/assets/<package>/<path>``.

Lab PCs and kiosks often have no way out to the internet, and exam pages must not depend
on a third party's CDN, so ``npm ci`` installs the packages next to the code and this
blueprint serves them. Only the packages named in ``package.json``'s ``dependencies`` are
reachable (not their transitive dependencies, not npm's own files), and only files with
the extensions a browser needs. URLs made with ``asset_url()`` carry the package version,
so browsers may cache them for a year and still fetch the new file after an upgrade.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, abort, send_from_directory, url_for
from werkzeug.security import safe_join
from werkzeug.wrappers import Response

from core.accounts.access import public
from core.config import Settings
from core.instance import ruang

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
ONE_YEAR = 365 * 24 * 3600

# What a page loads from a package: scripts, styles, fonts, images, source maps.
SERVED_SUFFIXES = frozenset({
    ".js", ".mjs", ".css", ".map", ".json", ".woff", ".woff2", ".ttf", ".otf", ".eot",
    ".svg", ".png", ".gif", ".jpg", ".jpeg", ".webp",
})
# An npm package name: optional @scope, then lower-case letters, digits, '-', '.', '_'.
_PACKAGE_NAME = re.compile(r"^(@[a-z0-9][a-z0-9._-]*/)?[a-z0-9][a-z0-9._-]*$")

bp = Blueprint("assets", __name__)


def package_json_path() -> Path:
    return REPO_ROOT / "package.json"


def assets_dir(settings: Settings) -> Path:
    """Where ``node_modules`` is: ``RUANG_ASSETS_DIR``, or next to ``package.json``."""
    if settings.assets_dir is not None:
        return settings.assets_dir.resolve()
    return REPO_ROOT / "node_modules"


@lru_cache(maxsize=4)
def _declared(package_json: Path, mtime: float) -> frozenset[str]:
    try:
        data = json.loads(package_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return frozenset()
    deps = data.get("dependencies") or {}
    return frozenset(name for name in deps if _PACKAGE_NAME.match(name))


def declared_packages() -> frozenset[str]:
    """The packages ``package.json`` lists under ``dependencies``."""
    path = package_json_path()
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return frozenset()
    return _declared(path, mtime)


def installed_version(package: str) -> str:
    """The installed version of ``package`` (``""`` when ``npm ci`` has not been run)."""
    meta = assets_dir(ruang().settings) / package / "package.json"
    try:
        return str(json.loads(meta.read_text(encoding="utf-8")).get("version", ""))
    except (OSError, ValueError):
        return ""


def asset_url(package: str, path: str) -> str:
    """URL of a file of an npm package, with its version so that it can be cached long."""
    target = f"{package}/{path.lstrip('/')}"
    version = installed_version(package)
    if version:
        return url_for("assets.serve", package_and_file=target, v=version)
    return url_for("assets.serve", package_and_file=target)


@bp.route("/assets/<path:package_and_file>")
@public
def serve(package_and_file: str) -> Response:
    # One <path> converter so that scoped names (``@scope/name``) work too.
    package, filename = _split(package_and_file)
    if package not in declared_packages() or not filename:
        abort(404)
    if Path(filename).suffix.lower() not in SERVED_SUFFIXES:
        abort(404)
    if any(part.startswith(".") or part in ("", "node_modules") for part in filename.split("/")):
        abort(404)
    root = assets_dir(ruang().settings) / package
    full = safe_join(str(root), filename)
    if full is None or not Path(full).is_file():
        abort(404)
    resp = send_from_directory(root, filename, max_age=ONE_YEAR, conditional=True)
    resp.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    return resp


def _split(value: str) -> tuple[str, str]:
    parts = value.split("/")
    if parts[0].startswith("@"):
        return "/".join(parts[:2]), "/".join(parts[2:])
    return parts[0], "/".join(parts[1:])
