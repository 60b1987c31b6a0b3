"""Event types the server reads or writes by name (spec: Client-Server API, "Room Events"
and "Spaces"), defined once. Account data, receipt and login types live with their modules."""

MEMBER = "m.room.member"
HISTORY_VISIBILITY = "m.room.history_visibility"
SPACE_CHILD = "m.space.child"
