"""/sync, built by one small provider per stream.

HOW TO ADD A STREAM (to-device, device lists, receipts, typing, account data, presence, unread
counts, ...): write ``homeserver/services/sync/<name>.py`` and add the module to
``PROVIDERS`` in ``providers.py``. Nothing else changes.

A provider module defines:

``build(ctx: SyncContext, response: SyncResponse) -> None``   (required)
    Add what this stream holds for ``ctx.user_id`` / ``ctx.device_id`` between ``ctx.since``
    (exclusive; None on an initial sync: send the complete current picture) and ``ctx.now``
    (inclusive). Read nothing above ``ctx.now``: the response's next_batch is ``ctx.now``, so
    anything later belongs to the next sync. Runs inside one read-only snapshot transaction
    (REPEATABLE READ on PostgreSQL): do not write here. Useful context (``context.py``):
    ``ctx.is_initial``, ``ctx.full_state``, ``ctx.filter`` (``services.reading.filters.Filter``:
    ``.presence``, ``.account_data``, ``.room.ephemeral``, ``.room.account_data``, each with
    ``.matches(event)`` / ``.filter(events)`` / ``.limit_or(default)``), ``ctx.joined_room_ids``,
    ``ctx.newly_joined_room_ids`` (joined rooms to send in full: all of them on initial and
    full-state syncs), ``ctx.newly_left_room_ids``, ``ctx.memberships`` (room -> Membership at
    now), ``ctx.set_presence``.
    Write into ``response`` (``response.py``):
      ``response.add_events("to_device" | "presence" | "account_data", events)``
      ``response.set("device_lists", {...})``;
      ``response.set("device_one_time_keys_count", {...}, is_update=False)`` for fields sent on
        every sync (they alone must not end a long-poll);
      ``response.add_room_events("join", room_id, "ephemeral" | "account_data", events)``;
      ``response.room("join", room_id)["unread_notifications"] = {...}`` for other room keys.
    Anything added counts as news and ends a waiting long-poll; add nothing when nothing changed.
    ``ctx.nothing_new`` is True when no position concerning this sync was taken since
    ``ctx.since`` (proven from the stream listener's record, see ``service.py``): return at
    once then, after adding any field sent on every sync; that build runs outside any
    snapshot transaction. This is only right if every writer names whom its write concerns.
    Rooms excluded by the filter's ``room.rooms``/``room.not_rooms`` are dropped at the end.

``on_sync_request(request: SyncRequest) -> None``   (optional)
    Called once per /sync request before anything is built, outside any transaction: the place
    for writes such as marking presence from ``request.set_presence`` or deleting to-device
    messages the client acknowledged by syncing from ``request.since``.

WAKING LONG-POLLS: a provider needs nothing special. Its writer takes a position with
``services.streams.positions.next_position(rooms=[...], users=[...])`` inside the writing
transaction; a waiting sync re-runs every provider when a position names one of the user's joined,
invited or knocked rooms, or the user (see streams.py). Name the right rooms/users or nobody wakes
up.
"""
