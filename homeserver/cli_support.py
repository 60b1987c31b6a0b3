"""What every ``homeserver`` subcommand does first: read the configuration and open the
database (refusing one a newer release has migrated)."""

from __future__ import annotations

import click

from . import db
from .config import Config, ConfigError, load_config


def load() -> Config:
    try:
        return load_config()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def open_database(config: Config) -> None:
    db.init_database(config.database_url, 2)
    try:
        db.check_schema()
    except db.SchemaTooNew as exc:
        raise click.ClickException(str(exc)) from None
