"""The room graph: the room-version event formats, the authorization rules, power levels,
room state (now or at a position, joined rooms and members), the writer's hot-path SQL
(``event_store``), content checks beyond the auth rules, alias lookups, the published
directory and blocked rooms. Everything here reads the graph or checks an event; appending
events is ``writing/`` (``writing/events`` is the only writer of room events).
"""
