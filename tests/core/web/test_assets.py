"""Front-end packages are served by Ruang itself: only declared packages, only safe paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.web.assets import REPO_ROOT, declared_packages

pytestmark = pytest.mark.skipif(not (REPO_ROOT / "node_modules" / "chart.js").is_dir(),
                                reason="run npm ci (./scripts/test does) for the asset tests")


def test_declared_packages_are_the_dependencies_of_package_json():
    deps = json.loads((REPO_ROOT / "package.json").read_text())["dependencies"]
    assert declared_packages() == frozenset(deps)
    assert {"socket.io-client", "chart.js", "katex"} <= declared_packages()


def test_a_package_file_is_served_with_long_cache_headers(client):
    resp = client.get("/assets/socket.io-client/dist/socket.io.min.js")
    assert resp.status_code == 200
    assert resp.mimetype in ("text/javascript", "application/javascript")
    assert "max-age=31536000" in resp.headers["Cache-Control"]
    assert "immutable" in resp.headers["Cache-Control"]
    assert b"io" in resp.data[:2000]


def test_katex_fonts_and_css_are_served(client):
    assert client.get("/assets/katex/dist/katex.min.css").status_code == 200
    fonts = list((REPO_ROOT / "node_modules/katex/dist/fonts").glob("*.woff2"))
    assert fonts
    assert client.get(f"/assets/katex/dist/fonts/{fonts[0].name}").status_code == 200


@pytest.mark.parametrize("path", [
    "/assets/ws/package.json",                        # installed, but only a dependency's
    "/assets/chart.js/../ws/package.json",            # climbing out of the package
    "/assets/chart.js/%2e%2e/%2e%2e/package.json",
    "/assets/chart.js/dist/../../../setup.cfg",
    "/assets/chart.js/README.md",                     # not a file type pages load
    "/assets/chart.js/.npmignore",
    "/assets/chart.js/node_modules/x.js",
    "/assets/chart.js/dist/does-not-exist.js",
    "/assets/nope/x.js",
    "/assets/chart.js",
])
def test_anything_else_is_404(client, path):
    assert client.get(path).status_code == 404


def test_asset_url_carries_the_version(app):
    from core.web.assets import asset_url

    with app.test_request_context():
        url = asset_url("chart.js", "dist/chart.umd.min.js")
    version = json.loads((REPO_ROOT / "node_modules/chart.js/package.json").read_text())["version"]
    assert url == f"/assets/chart.js/dist/chart.umd.min.js?v={version}"


def test_assets_dir_setting_moves_node_modules(tmp_path: Path, instance):
    from core.app import create_app
    from tests.conftest import make_settings

    pkg = tmp_path / "mods" / "katex" / "dist"
    pkg.mkdir(parents=True)
    (pkg / "katex.min.css").write_text(".katex{}")
    app = create_app(make_settings(instance, assets_dir=tmp_path / "mods"))
    resp = app.test_client().get("/assets/katex/dist/katex.min.css")
    assert resp.status_code == 200
    assert resp.data == b".katex{}"
    app.extensions["ruang"].db.dispose()
