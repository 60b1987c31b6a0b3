"""The sync APIs of the Client-Server API before r0, which the spec deprecated (old_sync.yaml,
peeking_events.yaml) and Synapse still serves: clients, bots and SyTest written against r0 use
them.

- ``event_stream``: GET /events, the user's event stream (getEvents) and, with ``room_id``, one
  room's (peekEvents, module "Room Previews"): room events read in stream order, the rest
  (typing, receipts, account data, presence) from the /sync providers.
- ``initial_sync``: GET /initialSync, an initial /sync built by the /sync providers and
  reshaped into the v1 room list.
- ``reading/v1_format`` (shared with room initialSync): what the v1 shape of an event adds to the /sync one.

Both hand out stream positions as tokens (``reading/stream_tokens``), so a token of one works
with the other, with /messages and with /sync.
"""
