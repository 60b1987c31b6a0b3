"""The v1 shape of the events GET /events and GET /initialSync hand out, beside the /sync one.

The v1 APIs return flat lists, so every event that belongs to a room names it (``room_id``),
and an m.presence event also names its user inside ``content`` (``user_id``), as the v1 API
did and Synapse still does there (in /sync the user is only the event's ``sender``).
"""

from __future__ import annotations


def in_room(events: list[dict], room_id: str) -> list[dict]:
    """The events with ``room_id`` set (copies; events already naming it are kept as they are)."""
    return [event if event.get("room_id") == room_id else {**event, "room_id": room_id}
            for event in events]


def presence(events: list[dict]) -> list[dict]:
    """m.presence events with ``content.user_id`` (the sender) added."""
    shaped = []
    for event in events:
        content = event.get("content")
        if isinstance(content, dict) and "sender" in event:
            event = {**event, "content": {**content, "user_id": event["sender"]}}
        shaped.append(event)
    return shaped


def flatten(response) -> list[dict]:
    """The events a ``SyncResponse`` of the ephemeral, account data and presence providers
    holds, as one v1 list: each joined room's ephemeral and account data events (with their
    room), the global account data, the presence."""
    events: list[dict] = []
    for room_id, entry in response.rooms["join"].items():
        for key in ("ephemeral", "account_data"):
            events.extend(in_room(entry.get(key, {}).get("events", []), room_id))
    events.extend(response.top.get("account_data", {}).get("events", []))
    events.extend(presence(response.top.get("presence", {}).get("events", [])))
    return events
