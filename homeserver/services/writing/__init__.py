"""Writing rooms: the one event writer (``events``: build, check, store, evaluate push rules,
in one transaction holding the room's lock) and the writes built on it that shape a room:
``create``, ``upgrade``, ``membership`` (join, knock, invite, leave, kick, ban), which guests
may join (``guest_access``), ``alias_changes`` and deleting a room (``room_shutdown``). It
sits above the room graph (``rooms/``), push rules and account data, which the writer calls
inside its transaction; ``reading/`` is its counterpart.
"""
