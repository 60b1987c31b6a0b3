"""``homeserver appservice list``: the configured application services (bridges) and how
delivery to each stands: last success, transactions waiting, backoff, last error."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import click

from . import cli_setup
from .services.appservice import sender


def _when(ts):
    if ts is None:
        return "never"
    return datetime.fromtimestamp(ts / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


@click.group()
def appservice():
    """Show the application services of app_service_config_files."""


@appservice.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def appservice_list(as_json):
    """Each service: ID, URL, sender, registration file and its delivery state."""
    config = cli_setup.config()
    cli_setup.open_database(config)
    rows = sender.delivery_states(config.app_services)
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    if not rows:
        click.echo("no application services (app_service_config_files is empty)")
        return
    for row in rows:
        click.echo(f"{row['id']}  {row['url'] or '(no url: nothing is pushed)'}")
        click.echo(f"  registration: {row['file']}  sender: {row['sender']}")
        click.echo(f"  last success: {_when(row['last_success_ts'])}  queued transactions: "
                   f"{row['queued_transactions']}  stream positions not yet looked at: "
                   f"{row['stream_positions_behind']}")
        if row["failing_since_ts"] is not None:
            click.echo(f"  FAILING since {_when(row['failing_since_ts'])}: backoff "
                       f"{row['backoff_ms'] // 1000} s, next attempt {_when(row['retry_at_ts'])}"
                       f"; last error: {row['last_error']}")
        else:
            click.echo("  delivering normally")
