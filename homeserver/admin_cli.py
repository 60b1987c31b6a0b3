"""``homeserver users ...``, ``homeserver rooms ...`` and ``homeserver backup``: the admin API's
account and room operations from the command line, through the same services
(services/admin_users.py, admin_rooms.py, room_shutdown.py), and the database backup."""

from __future__ import annotations

import json

import click

from . import backup as database_backup
from . import cli_setup, errors
from .services.accounts import admin_users
from .services.media import storage
from .services.reading import admin_rooms
from .services.writing import room_shutdown


def _open():
    config = cli_setup.config()
    cli_setup.open_database(config)
    return config


def _media_store(config):
    return storage.store_for(config.data_dir, config.media["store_path"])


def _account(config, user_id: str) -> str:
    try:
        return admin_users.existing_user(user_id, config.server_name).user_id
    except errors.MatrixError as exc:
        raise click.ClickException(f"{user_id}: {exc.message}") from None


@click.group()
def users():
    """List and administer accounts."""


@users.command("list")
@click.option("--name", default=None, help="localpart or display name contains this")
@click.option("--deactivated", is_flag=True, help="include deactivated accounts")
@click.option("--admins", is_flag=True, help="only server admins")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 1000))
@click.option("--from", "offset", default=0, type=click.IntRange(min=0), help="skip this many")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
def users_list(name, deactivated, admins, limit, offset, as_json):
    """List accounts by user ID."""
    _open()
    page = admin_users.list_users(admin_users.UserQuery(
        offset=offset, limit=limit, name=name, deactivated=deactivated,
        admins=True if admins else None, locked=True))
    for user in page["users"]:
        if as_json:
            click.echo(json.dumps(user, ensure_ascii=False))
            continue
        flags = [flag for flag in ("admin", "deactivated", "locked", "suspended") if user[flag]]
        click.echo(f"{user['name']}  {user['displayname'] or '-'}  {' '.join(flags)}".rstrip())
    if not as_json:
        more = f"; more with --from {page['next_token']}" if "next_token" in page else ""
        click.echo(f"{len(page['users'])} of {page['total']} account(s){more}")


@users.command("deactivate")
@click.argument("user_id")
@click.option("--erase", is_flag=True, help="also erase: events redacted for later joiners, "
                                            "account data and uploaded media deleted")
@click.confirmation_option(prompt="Deactivate for good?")
def users_deactivate(user_id, erase):
    """Deactivate USER_ID: leaves every room, deletes devices, keys and pushers."""
    config = _open()
    admin_users.deactivate(_account(config, user_id), erase=erase,
                           media_store=_media_store(config))
    click.echo(f"deactivated {user_id}{' (erased)' if erase else ''}")


@users.command("reset-password")
@click.argument("user_id")
@click.option("--password", default=None, help="asked for when not given")
@click.option("--keep-devices", is_flag=True, help="do not log out the account's devices")
def users_reset_password(user_id, password, keep_devices):
    """Set a new password for USER_ID (logging out its devices unless --keep-devices)."""
    config = _open()
    user_id = _account(config, user_id)
    if password is None:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    try:
        admin_users.reset_password(user_id, password, logout_devices=not keep_devices)
    except errors.MatrixError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"password of {user_id} changed")


@users.command("make-admin")
@click.argument("user_id")
@click.option("--revoke", is_flag=True, help="take server admin rights away instead")
def users_make_admin(user_id, revoke):
    """Make USER_ID a server admin (or, with --revoke, no longer one)."""
    config = _open()
    admin_users.put_user(None, _account(config, user_id), {"admin": not revoke},
                         config.server_name)
    click.echo(f"{user_id} is {'no longer ' if revoke else ''}a server admin")


@click.group()
def rooms():
    """List and delete rooms."""


@rooms.command("list")
@click.option("--search", default=None, help="name or alias contains this, or the room ID")
@click.option("--order-by", default="name", show_default=True,
              type=click.Choice(["name", "size", "creator", "version", "state_events"]))
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 1000))
@click.option("--from", "offset", default=0, type=click.IntRange(min=0), help="skip this many")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
def rooms_list(search, order_by, limit, offset, as_json):
    """List rooms: ID, members, name, alias."""
    _open()
    page = admin_rooms.list_rooms(admin_rooms.RoomQuery(
        offset=offset, limit=limit, order_by=order_by, search_term=search))
    for room in page["rooms"]:
        if as_json:
            click.echo(json.dumps(room, ensure_ascii=False))
            continue
        click.echo(f"{room['room_id']}  {room['joined_members']:>6} members  "
                   f"{room['name'] or '-'}  {room['canonical_alias'] or ''}".rstrip())
    if not as_json:
        more = f"; more with --from {page['next_batch']}" if "next_batch" in page else ""
        click.echo(f"{len(page['rooms'])} of {page['total_rooms']} room(s){more}")


@rooms.command("delete")
@click.argument("room_id")
@click.option("--block", is_flag=True, help="nobody may join it again")
@click.option("--no-purge", is_flag=True, help="keep its history in the database")
@click.option("--force-purge", is_flag=True, help="purge even if someone could not leave")
@click.option("--message", default=None, help="the reason shown in the members' leave events")
@click.confirmation_option(prompt="Delete the room?")
def rooms_delete(room_id, block, no_purge, force_purge, message):
    """Make every member leave ROOM_ID, remove its aliases and (unless --no-purge) delete it."""
    _open()
    try:
        delete_id = room_shutdown.delete_room(room_id, None, block=block, purge=not no_purge,
                                              force_purge=force_purge, message=message)
    except errors.MatrixError as exc:
        raise click.ClickException(exc.message) from None
    status = room_shutdown.delete_status(delete_id)
    done = status["shutdown_room"]
    click.echo(f"{status['status']}: {len(done['kicked_users'])} member(s) left, "
               f"{len(done['failed_to_kick_users'])} could not, "
               f"aliases removed: {', '.join(done['local_aliases']) or 'none'}")
    if status["status"] != "complete":
        raise click.ClickException(status["error"])


@click.command()
@click.argument("path", type=click.Path(dir_okay=False))
def backup(path):
    """Write a consistent copy of the SQLite database to PATH while the server runs."""
    config = cli_setup.config()
    try:
        size = database_backup.backup(config.database_url, path)
    except database_backup.BackupRefused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {path} ({size} bytes)")
