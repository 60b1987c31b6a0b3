"""What every ``homeserver`` command does first: load the configuration and open the database,
turning their errors into a clean command-line message (cli.py, media_cli.py, reports_cli.py)."""

from __future__ import annotations

import click

from . import db
from .config import ConfigError, load_config


def config():
    try:
        return load_config()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def open_database(config):
    db.init_database(config.database_url, 2)
    try:
        db.check_schema()
    except db.SchemaTooNew as exc:
        raise click.ClickException(str(exc)) from None
