"""The ``homeserver`` command: generate-config, migrate, create-user, run, registration-token,
send-test-mail (and media, reports, appservice from their own modules)."""

from __future__ import annotations

import os
import sys

import click

from . import cli_setup, db, errors
from .admin_cli import backup as _backup_command
from .admin_cli import rooms as _rooms_commands
from .admin_cli import users as _users_commands
from .app import create_app
from .appservice_cli import appservice as _appservice_commands
from .config import render_default_config
from .media_cli import media as _media_commands
from .reports_cli import reports as _reports_commands
from .services.accounts import accounts, registration_tokens
from .services.mail import smtp


@click.group()
@click.version_option(package_name="homeserver", prog_name="homeserver")
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
    config = cli_setup.config()
    cli_setup.open_database(config)
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
    config = cli_setup.config()
    cli_setup.open_database(config)
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user_id = accounts.validate_localpart(localpart.lower(), config.server_name)
        accounts.create_user(user_id, password, admin=admin)
    except errors.MatrixError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"created {user_id}{' (admin)' if admin else ''}")


@main.group("registration-token")
def registration_token():
    """Manage the tokens registration asks for when registration.require_token is true."""


@registration_token.command("create")
@click.option("--token", default=None, help="the token itself (default: a random one)")
@click.option("--length", default=16, show_default=True, type=click.IntRange(1, 64),
              help="length of a random token")
@click.option("--uses-allowed", default=None, type=click.IntRange(min=0),
              help="how many accounts it may register (default: unlimited)")
@click.option("--expiry-days", default=None, type=click.FloatRange(min=0, min_open=True),
              help="days until it expires (default: never)")
def registration_token_create(token, length, uses_allowed, expiry_days):
    """Create a registration token and print it."""
    cli_setup.open_database(cli_setup.config())
    try:
        created = registration_tokens.create(token, length=length, uses_allowed=uses_allowed,
                                             expiry_days=expiry_days)
    except errors.MatrixError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(created["token"])


def _format_expiry(expiry_ts):
    if expiry_ts is None:
        return "never"
    from datetime import datetime, timezone
    return datetime.fromtimestamp(expiry_ts / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


@registration_token.command("list")
def registration_token_list():
    """List registration tokens: uses (completed/allowed, pending) and expiry."""
    cli_setup.open_database(cli_setup.config())
    rows = registration_tokens.list_tokens()
    if not rows:
        click.echo("no registration tokens")
        return
    click.echo(f"{'TOKEN':<24} {'USES':<12} {'PENDING':<8} {'EXPIRES':<22} STATE")
    for row in rows:
        allowed = "unlimited" if row["uses_allowed"] is None else str(row["uses_allowed"])
        uses = f"{row['completed']}/{allowed}"
        state = "valid" if row["valid"] else "used up or expired"
        click.echo(f"{row['token']:<24} {uses:<12} {row['pending']:<8} "
                   f"{_format_expiry(row['expiry_ts']):<22} {state}")


@registration_token.command("delete")
@click.argument("token")
def registration_token_delete(token):
    """Delete TOKEN (registrations already made with it stay)."""
    cli_setup.open_database(cli_setup.config())
    if not registration_tokens.delete(token):
        raise click.ClickException(f"no registration token {token}")
    click.echo(f"deleted {token}")


@main.command("send-test-mail")
@click.argument("recipient")
def send_test_mail(recipient):
    """Send one mail to RECIPIENT now through the configured SMTP server (the `email`
    section), and say what the server answered: to check the configuration."""
    config = cli_setup.config()
    if config.email is None:
        raise click.ClickException("no email section in the configuration (README \"Email\")")
    try:
        address = smtp.normalise_address(recipient)
    except errors.MatrixError as exc:
        raise click.ClickException(exc.message) from None
    message = smtp.build_message(config.email, address, f"[{config.email['app_name']}] Test",
                                 f"This is a test mail from the Matrix server "
                                 f"{config.server_name}. Its mail configuration works.\n")
    try:
        smtp.send(config.email, address, message)
    except Exception as exc:  # noqa: BLE001 - whatever failed is what the operator needs to see
        raise click.ClickException(f"not sent: {type(exc).__name__}: {exc}") from None
    click.echo(f"sent to {address} through {config.email['smtp_host']}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8008, show_default=True, type=int)
def run(host, port):
    """Serve with Flask's development server (use gunicorn in production)."""
    config = cli_setup.config()
    cli_setup.open_database(config)
    db.migrate()
    app = create_app(config)
    app.run(host=host, port=port, threaded=True)


main.add_command(_media_commands)  # `homeserver media ...`
main.add_command(_reports_commands)  # `homeserver reports ...`
main.add_command(_users_commands)  # `homeserver users ...`
main.add_command(_rooms_commands)  # `homeserver rooms ...`
main.add_command(_backup_command)  # `homeserver backup PATH`
main.add_command(_appservice_commands)  # `homeserver appservice ...`


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
