"""Room.join_rule, Room.history_visibility and Room.joined_members, kept by the event writer
from the current state, with the index the room directory pages through.

Filled here from the current state of existing rooms.
"""

import json

import peewee

from ..db import add_column_if_missing

COLUMNS = (("join_rule", "m.room.join_rules"),
           ("history_visibility", "m.room.history_visibility"))


def _text(content, key):
    value = content.get(key) if isinstance(content, dict) else None
    return value if isinstance(value, str) and len(value) <= 64 else None


def up(db):
    add_column_if_missing(db, "room", "join_rule", peewee.CharField(null=True, max_length=64))
    add_column_if_missing(db, "room", "history_visibility",
                          peewee.CharField(null=True, max_length=64))
    add_column_if_missing(db, "room", "joined_members", peewee.IntegerField(default=0))
    db.execute_sql(
        "UPDATE room SET joined_members = (SELECT COUNT(*) FROM current_state c "
        "WHERE c.room_id = room.room_id AND c.type = 'm.room.member' "
        "AND c.membership = 'join')")
    param = db.param
    for column, event_type in COLUMNS:
        rows = db.execute_sql(
            f"SELECT c.room_id, e.json FROM current_state c JOIN event e "
            f"ON e.event_id = c.event_id WHERE c.type = {param} AND c.state_key = ''",
            (event_type,)).fetchall()
        for room_id, text in rows:
            value = _text(json.loads(text).get("content"), column)
            db.execute_sql(f"UPDATE room SET {column} = {param} WHERE room_id = {param}",
                           (value, room_id))
    db.execute_sql("CREATE INDEX IF NOT EXISTS room_is_public_joined_members "
                   "ON room (is_public, joined_members, room_id)")
    db.execute_sql("CREATE INDEX IF NOT EXISTS room_join_rule ON room (join_rule)")
    db.execute_sql("CREATE INDEX IF NOT EXISTS room_history_visibility "
                   "ON room (history_visibility)")
