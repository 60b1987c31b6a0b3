"""gunicorn settings for the homeserver. Override any of them the usual gunicorn way, e.g.
GUNICORN_CMD_ARGS="--bind 127.0.0.1:9000 --workers 4"."""

import multiprocessing

bind = "127.0.0.1:8008"
# gthread: a /sync long-poll holds a thread (but no database connection) while it waits, so
# workers x threads is how many clients can long-poll at once (4 x 320 = 1280) with threads left
# for other requests. A waiting thread costs little memory; raise threads for more clients.
worker_class = "gthread"
workers = min(4, multiprocessing.cpu_count() * 2)
threads = 320
# Long-polls last up to the client's timeout (30 s is common); keep well above it.
timeout = 120
graceful_timeout = 30
keepalive = 75
accesslog = "-"
# No control socket: its default path (~/.gunicorn/gunicorn.ctl) is shared by every gunicorn
# of the same user, so two servers on one machine would take it from each other.
control_socket_disable = True
wsgi_app = "wsgi:app"


def on_starting(server):
    """Migrate once, in the master, before any worker imports the app."""
    from homeserver import __version__, db
    from homeserver.config import load_config

    config = load_config()
    db.init_database(config.database_url, 2)
    applied = db.migrate()
    if applied:
        server.log.info("applied migrations: %s", ", ".join(applied))
    server.log.info("homeserver %s, %s database, schema version %d", __version__,
                    "PostgreSQL" if db.is_postgres(config.database_url) else "SQLite",
                    db.current_schema_version())
    db.database.obj.close_all()
