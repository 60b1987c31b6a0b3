"""gunicorn settings for the homeserver. Override any of them the usual gunicorn way, e.g.
GUNICORN_CMD_ARGS="--bind 127.0.0.1:9000 --workers 4"."""

import logging
import multiprocessing
import sys

from gunicorn.glogging import Logger

from homeserver.log_redaction import redact, redact_query

bind = "127.0.0.1:8008"
# gthread: a /sync long-poll holds a thread (but no database connection) while it waits, so
# workers x threads is how many clients can long-poll at once (2 x 640 = 1280) with threads left
# for other requests. Threads are started as requests need them; a waiting one costs about
# 80 KiB. Two workers, not more: each costs ~25 MiB of its own even with the app shared
# (docs/performance.md), and two keep both CPUs of a small machine busy.
# gthread, but a worker accepts a connection only when it has a thread for it (kept-alive
# connections included), so a worker whose threads all hold long-polls leaves new connections to
# another instead of queueing them behind the long-polls (homeserver/gunicorn_worker.py).
worker_class = "homeserver.gunicorn_worker.ThreadWorker"
workers = min(2, multiprocessing.cpu_count())
threads = 640
# Long-polls last up to the client's timeout (30 s is common); keep well above it.
timeout = 120
# glibc malloc arenas per process (see _share_with_workers); 0 leaves glibc's default.
MALLOC_ARENAS = 2
_M_ARENA_MAX = -8
graceful_timeout = 30
keepalive = 75
accesslog = "-"
# No control socket: its default path (~/.gunicorn/gunicorn.ctl) is shared by every gunicorn
# of the same user, so two servers on one machine would take it from each other.
control_socket_disable = True
wsgi_app = "wsgi:app"


class _RedactMessages(logging.Filter):
    def filter(self, record):
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


class RedactingLogger(Logger):
    """gunicorn's logger, but no credential from a query string (``?access_token=...``) is
    written: the access log's request line, query and referer, and the error log's messages
    (a failing request's URI) go through homeserver/log_redaction.py. An Authorization header
    is never logged (the default access_log_format has none; a custom one gets it redacted)."""

    def setup(self, cfg):
        super().setup(cfg)
        if not any(isinstance(f, _RedactMessages) for f in self.error_log.filters):
            self.error_log.addFilter(_RedactMessages())

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["r"] = redact(atoms["r"])
        atoms["q"] = redact_query(atoms["q"])
        atoms["f"] = redact(atoms["f"])
        for key in ("{authorization}i", "{cookie}i"):
            if key in atoms:
                atoms[key] = "<redacted>"
        return atoms


logger_class = RedactingLogger


def on_starting(server):
    """Migrate once, in the master, before any worker imports the app."""
    from homeserver import __version__, db
    from homeserver.config import ConfigError, load_config

    try:
        config = load_config()
    except ConfigError as exc:
        # One line naming the key or file and the problem, not a traceback.
        server.log.error("configuration error: %s", exc)
        sys.exit(1)
    _prepare_metrics(config, server)
    db.init_database(config.database_url, 2)
    applied = db.migrate()
    if applied:
        server.log.info("applied migrations: %s", ", ".join(applied))
    server.log.info("homeserver %s, %s database, schema version %d", __version__,
                    "PostgreSQL" if db.is_postgres(config.database_url) else "SQLite",
                    db.current_schema_version())
    db.database.obj.close_all()
    _share_with_workers(server)


# --- memory: what the workers share -------------------------------------------------------------

def _share_with_workers(server):
    """Load the application here, in the master, once migrated (what ``preload_app`` would do
    before the migrations): the workers fork with it loaded and share its pages copy-on-write
    instead of each importing its own copy (gunicorn hands each worker this same app). Its
    database connections are closed first: a connection never crosses a fork. ``gc.freeze``
    keeps the collector from writing to (so copying) every shared object in each worker.
    glibc's malloc is held to a few arenas: by default every thread that allocates may get its
    own (up to 8 per CPU), each keeping freed memory."""
    import ctypes
    import gc
    import os

    from homeserver import db

    server.app.wsgi()
    db.database.obj.close_all()
    if MALLOC_ARENAS and os.uname().sysname == "Linux":
        try:
            ctypes.CDLL("libc.so.6").mallopt(_M_ARENA_MAX, MALLOC_ARENAS)
        except OSError:
            pass
    gc.collect()
    gc.freeze()


# --- metrics: prometheus_client's multiprocess mode -------------------------------------------
# Every worker writes its metric values to files in one directory, and a scrape of any worker
# adds them up. The directory must be set before a worker imports prometheus_client (workers
# import the app after the fork: do not use --preload with metrics on) and emptied at each start.

def _prepare_metrics(config, server):
    import os

    if not config.metrics["enabled"]:
        return
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.path.join(
        config.data_dir, "prometheus")
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        if name.endswith(".db"):
            os.remove(os.path.join(directory, name))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.path.abspath(directory)
    server.log.info("metrics: GET /metrics, multiprocess values in %s", directory)


def child_exit(server, worker):
    """A worker's live gauges (long-polls held, pool in use) stop counting when it exits."""
    import os

    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        from prometheus_client import multiprocess
        multiprocess.mark_process_dead(worker.pid, directory)


def worker_exit(server, worker):
    """In the exiting worker: its background threads (stream listener, sweeps, push sender)
    stop and close their connections rather than die mid-query."""
    from homeserver.services import background

    background.stop_all(timeout_s=2.0)
