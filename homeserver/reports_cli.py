"""``homeserver reports list``: the content users reported (spec module "Reporting Content"),
newest first, for the server's administrators."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import click

from . import cli_setup
from .services.accounts import reports as reports_service


@click.group()
def reports():
    """Show reports of events, rooms and users."""


@reports.command("list")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1))
@click.option("--kind", type=click.Choice(["event", "room", "user"]))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def reports_list(limit, kind, as_json):
    """List the latest reports: when, kind, reporter, what was reported, reason."""
    cli_setup.open_database(cli_setup.config())
    rows = reports_service.list_reports(limit=limit, kind=kind)
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    if not rows:
        click.echo("no reports")
        return
    for row in rows:
        when = datetime.fromtimestamp(row["received_ts"] / 1000, tz=timezone.utc)
        target = " ".join(row[key] for key in ("room_id", "event_id", "target_user_id")
                          if key in row)
        reason = row["reason"] if row["reason"] is not None else "-"
        click.echo(f"{when:%Y-%m-%d %H:%M} {row['kind']:5} {row['reporter']} -> {target}: "
                   f"{reason}")
