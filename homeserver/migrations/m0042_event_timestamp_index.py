"""GET /rooms/{roomId}/timestamp_to_event looks events up by (room, origin_server_ts)."""


def up(db):
    db.execute_sql("CREATE INDEX IF NOT EXISTS event_room_id_origin_server_ts "
                   "ON event (room_id, origin_server_ts)")
