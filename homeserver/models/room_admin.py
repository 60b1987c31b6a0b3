"""Room moderation by the server's administrators: blocked rooms and room deletions
(Synapse's admin API, services/room_shutdown.py)."""

import peewee

from ..db import BaseModel


class BlockedRoom(BaseModel):
    """A room nobody on this server may join, be invited to or knock on (it need not exist)."""

    room_id = peewee.CharField(primary_key=True, max_length=255)
    # The admin who blocked it (null: the `homeserver rooms delete --block` command).
    user_id = peewee.CharField(null=True, max_length=255)
    created_ts = peewee.BigIntegerField()


class RoomDeletion(BaseModel):
    """One DELETE of a room by an admin and how it went (GET .../delete_status)."""

    delete_id = peewee.CharField(primary_key=True, max_length=64)
    room_id = peewee.CharField(max_length=255, index=True)
    # "shutting_down", "purging", "complete" or "failed".
    status = peewee.CharField(max_length=16)
    error = peewee.TextField(default="")
    # JSON: kicked_users, failed_to_kick_users, local_aliases, new_room_id.
    shutdown_room = peewee.TextField(default="{}")
    created_ts = peewee.BigIntegerField(index=True)
