"""The WSGI application: ``create_app`` wires configuration, the database, the request hooks,
the error handlers and every blueprint together (wsgi.py and the tests call it)."""

from __future__ import annotations

import logging
import os
import sys
import threading

import peewee
from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from . import db, errors, log_format
from .api import metrics as metrics_api
from .api import register_blueprints, request_log
from .api.error_handlers import register_error_handlers
from .config import load_config
from .request_body import DrainUnreadBody
from .services import workers
from .services.ephemeral import presence
from .services.identity import client as identity_client
from .services.policy import txn_ids
from .services.push import rules as push_rules
from .services.reading import filters
from .services.server import metrics
from .services.sso import oidc

# The logger and Flask's import name stay "homeserver", as before create_app moved here.
logger = logging.getLogger("homeserver")


def _template_dir() -> str:
    """The checkout's templates/ (development, editable installs), else where `pip install .`
    puts them (setup.cfg data_files)."""
    checkout = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                            "templates")
    if os.path.isdir(checkout):
        return checkout
    return os.path.join(sys.prefix, "share", "homeserver", "templates")


TEMPLATE_DIR = _template_dir()

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "X-Requested-With, Content-Type, Authorization",
}


def create_app(config=None, *, overrides: dict | None = None, check_schema: bool = True) -> Flask:
    """Build the WSGI application. ``config`` is a Config; by default it is loaded from the
    environment (HOMESERVER_CONFIG and HOMESERVER_* variables)."""
    if config is None:
        config = load_config(overrides=overrides)
    log_format.configure(config.log_level, config.log_format)

    app = Flask("homeserver", template_folder=TEMPLATE_DIR)
    app.config["HOMESERVER"] = config
    app.config["MAX_CONTENT_LENGTH"] = config.max_request_size
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.json.compact = True
    if config.trust_x_forwarded_for:
        # What README's nginx block sets: X-Forwarded-For and X-Forwarded-Proto, and Host as
        # such. X-Forwarded-Host is not trusted: nginx passes a client's own one on unchanged.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=0)
    app.wsgi_app = DrainUnreadBody(
        app.wsgi_app, max(config.max_request_size, config.media["max_upload_size"]))

    # Services get their settings from here, not from Flask's config.
    presence.configure(config.presence)
    push_rules.configure(config.push)
    filters.configure(config.filters)
    txn_ids.configure(config.requests)
    identity_client.configure(config.identity_servers)
    oidc.configure(config.oidc_providers)
    database = db.init_database(config.database_url, config.database_pool_size)
    if check_schema:
        db.check_schema()
        if db.current_schema_version() < db.latest_schema_version():
            raise db.SchemaOutdated(
                "the database schema is out of date: run `homeserver migrate` first")

    # First: their timing covers the hooks below, their teardown runs after the one below.
    request_log.install(app)
    metrics_api.install(app, config, database)

    @app.before_request
    def _before():
        if request.method == "OPTIONS":
            # CORS pre-flight: answered for every path, without running the endpoint's logic.
            return app.response_class(status=200)
        try:
            metrics.connect_timed(database)
        except peewee.OperationalError:
            # No connection at all (PostgreSQL down or unreachable): 503, which load balancers
            # and clients treat as "try again", not a 500 with a traceback per request.
            logger.warning("cannot connect to the database")
            raise errors.DatabaseUnreachable() from None
        return None

    # Background workers start at each process's first request: under gunicorn the workers
    # fork from the master, whose threads they would not have (services/background.py).
    started_in_pid = [None]
    start_lock = threading.Lock()

    @app.before_request
    def _start_workers():
        if started_in_pid[0] != os.getpid():
            with start_lock:
                if started_in_pid[0] != os.getpid():
                    try:
                        workers.start(config)
                    except peewee.PeeweeException as exc:
                        # The database is not answering: this request (say /health) still
                        # gets its own answer; the next request tries again.
                        logger.warning("background workers not started: %s", exc)
                        return
                    started_in_pid[0] = os.getpid()

    @app.teardown_request
    def _teardown(exc):
        if not database.is_closed():
            database.close()

    @app.after_request
    def _cors(response):
        for name, value in CORS_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    register_error_handlers(app)
    register_blueprints(app)
    return app
