"""Event types the server reads or writes by name (spec: Client-Server API, "Room Events"
and "Spaces"), defined once. Account data, receipt and login types live with their modules."""

MEMBER = "m.room.member"
HISTORY_VISIBILITY = "m.room.history_visibility"
GUEST_ACCESS = "m.room.guest_access"
SPACE_CHILD = "m.space.child"
NAME = "m.room.name"
AVATAR = "m.room.avatar"
CANONICAL_ALIAS = "m.room.canonical_alias"
CREATE = "m.room.create"
ENCRYPTION = "m.room.encryption"
JOIN_RULES = "m.room.join_rules"
POWER_LEVELS = "m.room.power_levels"
THIRD_PARTY_INVITE = "m.room.third_party_invite"

# Events that move a room up a client's room list (MSC4186's default bump event types): the
# event writer keeps the position of the latest in Room.bump_stamp, by which sliding sync sorts.
BUMP_EVENT_TYPES = frozenset({CREATE, "m.room.message", "m.room.encrypted", "m.sticker",
                              "m.call.invite", "m.poll.start", "m.beacon_info"})
