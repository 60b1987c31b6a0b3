"""The room graph: the one event writer (``events``, ``event_store``), the room-version
event formats, the authorization rules, power levels, room state, and the writes that
shape a room: creation, upgrades, membership (and which guests may join), aliases and the
published directory; and room administration: ``admin_rooms`` (the admin room list and
details), ``blocked_rooms``, ``room_shutdown`` (deleting a room).
"""
