"""Room administration: Room.name, canonical_alias, encryption and guest_access kept by the
event writer from the current state (the admin room list sorts and searches by them), blocked
rooms, and the record of room deletions.

The columns are filled here from the current state of existing rooms.
"""

import json

import peewee

from ..db import add_column_if_missing
from ..models.room_admin import BlockedRoom, RoomDeletion

# column, event type, content key, longest value kept (labels are cut, enums left out).
COLUMNS = (("name", "m.room.name", "name", 255, True),
           ("canonical_alias", "m.room.canonical_alias", "alias", 255, True),
           ("encryption", "m.room.encryption", "algorithm", 64, False),
           ("guest_access", "m.room.guest_access", "guest_access", 64, False))


def column_value(content, key: str, longest: int, cut: bool):
    value = content.get(key) if isinstance(content, dict) else None
    if not isinstance(value, str):
        return None
    if len(value) > longest:
        return value[:longest] if cut else None
    return value


def up(db):
    for column, _, _, longest, _ in COLUMNS:
        add_column_if_missing(db, "room", column, peewee.CharField(null=True, max_length=longest))
    param = db.param
    for column, event_type, key, longest, cut in COLUMNS:
        rows = db.execute_sql(
            f"SELECT c.room_id, e.json FROM current_state c JOIN event e "
            f"ON e.event_id = c.event_id WHERE c.type = {param} AND c.state_key = ''",
            (event_type,)).fetchall()
        for room_id, text in rows:
            value = column_value(json.loads(text).get("content"), key, longest, cut)
            db.execute_sql(f"UPDATE room SET {column} = {param} WHERE room_id = {param}",
                           (value, room_id))
    db.create_tables([BlockedRoom, RoomDeletion])
