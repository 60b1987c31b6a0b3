"""``homeserver media ...``: list, delete, purge and quarantine media; show what media costs."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import click

from . import cli_setup, db
from .services.media import admin, storage

DAY_MS = 24 * 3600 * 1000


def _setup():
    """(config, store) with the database open (the same checks as every other command)."""
    config = cli_setup.config()
    cli_setup.open_database(config)
    return config, storage.store_for(config.data_dir, config.media["store_path"])


def _when(ts):
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M")


def _bytes(count):
    value = float(count or 0)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def _now_ms():
    return db.now_ms()  # read through db at call time: the tests' clock patches db.now_ms


@click.group()
def media():
    """Administer the content repository."""


@media.command("list")
@click.option("--user", "user_id", default=None, help="only media uploaded by this user ID")
@click.option("--limit", default=None, type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
def list_command(user_id, limit, as_json):
    """List media, newest first."""
    config, _store = _setup()
    rows = admin.list_media(config.server_name, user_id=user_id, limit=limit)
    if as_json:
        for row in rows:
            click.echo(json.dumps(row))
        return
    if not rows:
        click.echo("no media")
        return
    click.echo(f"{'MXC':<50} {'SIZE':>10} {'UPLOADED':<17} {'LAST READ':<17} {'TYPE':<24} "
               "USER / NAME")
    for row in rows:
        state = " [quarantined]" if row["quarantined"] else (
            " [not yet uploaded]" if row["sha256"] is None else "")
        size = _bytes(row["size"]) if row["size"] is not None else "-"
        click.echo(f"{row['mxc']:<50} {size:>10} "
                   f"{_when(row['uploaded_ts']):<17} {_when(row['last_access_ts']):<17} "
                   f"{row['content_type'][:24]:<24} {row['user_id'] or '(server)'} "
                   f"{row['upload_name'] or ''}{state}")


@media.command("delete")
@click.argument("references", nargs=-1, required=True)
def delete_command(references):
    """Delete media items, given as mxc:// URIs or media IDs."""
    config, store = _setup()
    media_ids = []
    for reference in references:
        media_id = admin.media_id_from(reference, config.server_name)
        if media_id is None:
            raise click.ClickException(f"{reference} is not a media ID or mxc URI of this server")
        media_ids.append(media_id)
    result = admin.delete_media(store, media_ids)
    if result["deleted"] < len(set(media_ids)):
        click.echo(f"{len(set(media_ids)) - result['deleted']} of them did not exist")
    click.echo(f"deleted {result['deleted']} media item(s), removed {result['files_removed']} "
               "stored file(s)")


@media.command("purge")
@click.option("--older-than", "older_than_days", type=click.FloatRange(min=0), default=None,
              help="delete media uploaded more than DAYS ago")
@click.option("--not-accessed-for", "idle_days", type=click.FloatRange(min=0), default=None,
              help="delete media not downloaded for DAYS (never downloaded: since upload)")
def purge_command(older_than_days, idle_days):
    """Delete local media by age; always drops expired upload reservations, expired URL
    previews and stale temporary files. Quarantined media is kept."""
    _config, store = _setup()
    now = _now_ms()
    result = admin.purge(
        store,
        uploaded_before_ts=None if older_than_days is None else now - int(older_than_days * DAY_MS),
        not_accessed_since_ts=None if idle_days is None else now - int(idle_days * DAY_MS))
    click.echo(f"deleted {result['deleted']} media item(s), removed {result['files_removed']} "
               f"stored file(s); dropped {result['expired_reservations']} expired reservation(s), "
               f"{result['expired_previews']} expired URL preview(s), "
               f"{result['stale_temporary_files']} stale temporary file(s)")


@media.command("quarantine")
@click.argument("reference")
@click.option("--undo", is_flag=True, help="lift the quarantine")
def quarantine_command(reference, undo):
    """Stop serving a media item and every copy of its bytes (and refuse them as uploads)."""
    config, _store = _setup()
    media_id = admin.media_id_from(reference, config.server_name)
    if media_id is None or not admin.set_quarantine(media_id, not undo):
        raise click.ClickException(f"no media {reference} on this server")
    click.echo(f"{'released' if undo else 'quarantined'} {media_id}")


@media.command("usage")
@click.option("--top", default=10, show_default=True, type=click.IntRange(min=0))
@click.option("--json", "as_json", is_flag=True)
def usage_command(top, as_json):
    """Show what media costs: items, bytes, deduplication, thumbnails, disk, top uploaders."""
    _config, store = _setup()
    report = admin.usage(store, top=top)
    if as_json:
        click.echo(json.dumps(report))
        return
    disk = report["disk"]
    click.echo(f"media items:        {report['media_items']} "
               f"({_bytes(report['uploaded_bytes'])} as uploaded)")
    click.echo(f"stored files:       {report['stored_files']} "
               f"({_bytes(report['stored_bytes'])} after deduplication)")
    click.echo(f"thumbnails:         {report['thumbnails']} ({_bytes(report['thumbnail_bytes'])})")
    click.echo(f"on disk:            content {_bytes(disk['content']['bytes'])} in "
               f"{disk['content']['files']} file(s), thumbnails "
               f"{_bytes(disk['thumbnails']['bytes'])}, temporary {_bytes(disk['tmp']['bytes'])}"
               f" at {store.root}")
    if report["top_users"]:
        click.echo("top uploaders:")
        for entry in report["top_users"]:
            click.echo(f"  {entry['user_id'] or '(server: URL previews)':<40} "
                       f"{entry['media_items']:>6} item(s) {_bytes(entry['bytes']):>12}")
