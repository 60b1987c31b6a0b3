"""The ``homeserver`` command: generate-config, migrate, create-user, run, registration-token."""

from __future__ import annotations

import os
import sys

import click

from . import db
from .config import ConfigError, load_config, render_default_config


def _config():
    try:
        return load_config()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _open_database(config):
    db.init_database(config.database_url, 2)
    try:
        db.check_schema()
    except db.SchemaTooNew as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def main():
    """Run and administer the homeserver."""


@main.command("generate-config")
@click.option("--server-name", default="localhost:8008", show_default=True)
@click.option("--data-dir", default="data", show_default=True)
@click.option("--database", default=None, help="SQLite path or postgresql:// URL")
@click.option("--output", "-o", default=None,
              help="file to write (default: $HOMESERVER_CONFIG or ./homeserver.yaml)")
@click.option("--force", is_flag=True, help="overwrite an existing file")
def generate_config(server_name, data_dir, database, output, force):
    """Write a configuration file with defaults for SERVER_NAME."""
    path = output or os.environ.get("HOMESERVER_CONFIG") or "homeserver.yaml"
    if os.path.exists(path) and not force:
        click.echo(f"{path} already exists; leaving it as it is (use --force to overwrite)")
        return
    text = render_default_config(server_name, data_dir, database)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.makedirs(data_dir, exist_ok=True)
    click.echo(f"wrote {path}")


@main.command()
def migrate():
    """Create or upgrade the database schema."""
    config = _config()
    _open_database(config)
    applied = db.migrate()
    version = db.current_schema_version()
    if applied:
        click.echo(f"applied {len(applied)} migration(s); schema version {version}")
    else:
        click.echo(f"database is up to date (schema version {version})")


@main.command("create-user")
@click.argument("localpart")
@click.option("--password", default=None, help="asked for when not given")
@click.option("--admin", is_flag=True, help="make the user a server administrator")
def create_user(localpart, password, admin):
    """Create an account with LOCALPART on this server."""
    from . import errors
    from .services import accounts

    config = _config()
    _open_database(config)
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user_id = accounts.validate_localpart(localpart.lower(), config.server_name)
        accounts.create_user(user_id, password, admin=admin)
    except errors.MatrixError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"created {user_id}{' (admin)' if admin else ''}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8008, show_default=True, type=int)
def run(host, port):
    """Serve with Flask's development server (use gunicorn in production)."""
    config = _config()
    _open_database(config)
    db.migrate()
    from . import create_app

    app = create_app(config)
    app.run(host=host, port=port, threaded=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
