"""The app factory: ``create_app()`` builds a Flask app with every installed plugin."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, abort, g, has_request_context, jsonify, render_template, request
from flask_babel import Babel, Domain
from flask_login import LoginManager, current_user
from flask_socketio import SocketIO
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from core.config import Settings, instance_secret, load_settings
from core.db import Database
from core.instance import Ruang
from core.plugins import PluginHost
from core.realtime import ConnectionSessionInterface, client_manager, register_socket_handlers

CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self' ws: wss:; font-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def create_app(
    settings: Settings | None = None,
    *,
    extra_plugins: Iterable[Any] = (),
    entry_points: bool = True,
) -> Flask:
    """Build the app. Tests pass ``settings`` and ``extra_plugins``; ``ruang serve`` does not."""
    settings = settings or load_settings()
    settings.instance.mkdir(parents=True, exist_ok=True)

    app = Flask("core", instance_path=str(settings.instance.resolve()))
    app.config.update(
        SECRET_KEY=instance_secret(settings, "secret_key"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        MAX_CONTENT_LENGTH=64 * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_DEFAULT_LOCALE=settings.default_locale,
        BABEL_DEFAULT_TIMEZONE=settings.timezone,
    )

    db = Database(settings.sqlalchemy_url, pool_size=settings.db_pool_size,
                  max_overflow=settings.db_max_overflow)
    db.init_app(app)
    host = PluginHost(db, refresh_s=settings.plugin_refresh_s)
    host.load(entry_points=entry_points, extra=extra_plugins)

    app.session_interface = ConnectionSessionInterface()
    socketio = SocketIO()
    socketio.init_app(
        app,
        async_mode=settings.async_mode,
        message_queue=settings.message_queue or None,
        client_manager=client_manager(settings.message_queue or None),
        manage_session=False,
        ping_interval=10,
        ping_timeout=20,
    )
    app.extensions["ruang"] = Ruang(settings=settings, db=db, plugins=host, socketio=socketio)
    if settings.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Throttling and the audit log need the client's address, not the proxy's. Wrapped
        # after Socket.IO's middleware, so that /socket.io/ requests pass through it too.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)

    csrf = CSRFProtect(app)
    app.extensions["ruang.csrf"] = csrf
    _init_login(app, db)
    babel_domains = _init_babel(app, settings, host)

    blueprint_owner: dict[str, str] = {}
    for plugin_name, bp in host.collect_by_plugin("ruang_blueprints", enabled_only=False):
        app.register_blueprint(bp)
        blueprint_owner[bp.name] = plugin_name
    app.extensions["ruang.blueprint_owner"] = blueprint_owner
    register_socket_handlers(app, socketio, host)

    @app.before_request
    def _plugin_gate() -> None:
        owner = blueprint_owner.get(request.blueprint or "")
        if owner is not None and not host.is_enabled(owner):
            abort(404)
        babel_domains(owner).as_default()

    @app.after_request
    def _security_headers(response: Any) -> Any:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", CSP)
        return response

    _init_errors(app)
    host.hook.ruang_app_created(app=app)
    return app


def _init_login(app: Flask, db: Database) -> None:
    from core.accounts.models import User

    login = LoginManager(app)
    login.login_view = "accounts.login"
    login.session_protection = "strong"

    @login.user_loader
    def _load(user_id: str) -> User | None:
        if not user_id.isdigit():
            return None
        with db.session() as session:
            user = session.get(User, int(user_id))
        return user if user is not None and user.active else None


def _init_babel(app: Flask, settings: Settings, host: PluginHost) -> Callable[[str | None], Domain]:
    """Set up Flask-Babel; returns the catalogue set to use for a page of a given plugin.

    Every plugin's catalogue is merged into one, so two plugins may translate the same
    English text differently ("Title": "Judul" here, "Nama pelatihan" there). A page of a
    plugin is rendered with that plugin's catalogue merged last, so its own words win.
    """
    from core.web.i18n import compiled_translation_dirs

    dirs = compiled_translation_dirs(settings, host)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(dirs)
    by_plugin = {Path(d).name: d for d in dirs}
    domains: dict[str | None, Domain] = {}

    def select_locale() -> str:
        if not has_request_context():
            # Background jobs and the CLI: the instance's language, unless a caller forces
            # one with flask_babel.force_locale (e.g. for a recipient's own language).
            return settings.default_locale
        user = current_user
        if getattr(user, "is_authenticated", False) and getattr(user, "locale", None):
            return str(user.locale)
        chosen = request.cookies.get("ruang_lang")
        if chosen in ("id", "en"):
            return chosen
        return settings.default_locale

    Babel(app, locale_selector=select_locale)

    def domain_for(owner: str | None) -> Domain:
        found = domains.get(owner)
        if found is None:
            # Merged last wins: the page's own plugin, before it the core's shell.
            last = [name for name in ("core", owner) if name in by_plugin]
            ordered = [d for name, d in by_plugin.items() if name not in last]
            found = Domain(translation_directories=[*ordered, *(by_plugin[n] for n in last)])
            domains[owner] = found
        return found

    return domain_for


def _init_errors(app: Flask) -> None:
    def wants_json() -> bool:
        best = request.accept_mimetypes.best
        return request.path.startswith("/api/") or best == "application/json"

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> Any:
        if wants_json():
            return jsonify(error="csrf", message=exc.description), 400
        return render_template("errors/error.html", code=400, message=exc.description), 400

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        code = exc.code or 500
        if wants_json():
            return jsonify(error=exc.name.lower().replace(" ", "_"), message=exc.description), code
        g.error = exc
        return render_template("errors/error.html", code=code, message=exc.description), code
