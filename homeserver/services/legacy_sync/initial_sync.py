"""GET /initialSync (initialSync, old_sync.yaml): the user's rooms and account as of now.

Built by the /sync providers (rooms, account data, ephemeral, presence) as an initial /sync
whose timeline limit is ``limit`` (default 10, as Synapse; at most ``MAX_LIMIT``) and whose
room state is the state after the timeline (``use_state_after``): the current state of a
joined room, the state as of leaving for a left one. Then reshaped into the v1 room list:
per room ``membership``, ``state``, ``messages`` (``chunk`` oldest first; ``start`` and
``end`` are /messages tokens), ``account_data`` (tags among it) and the directory
``visibility``; an invited room carries the ``invite`` event instead. Rooms the user left or
was banned from are listed only with ``archived=true``. Top level: ``presence`` of the user
and of those sharing a room with them, the global ``account_data``, the read ``receipts``
of the joined rooms (m.push_rules, which /sync computes into the account data, is left
out, as Synapse does), and ``end``, a token for GET /events (and /sync).

A client calling it counts as syncing for presence (online), as GET /events does.
"""

from __future__ import annotations

from ...models.rooms import Event
from ..reading.filters import Filter
from ..reading.serialize import serialize_events
from ..reading.snapshot import read_snapshot
from ..reading.stream_tokens import pagination_token, sync_token
from ..rooms import directory
from ..streams import positions as streams
from ..sync import account_data as account_data_provider
from ..sync import ephemeral as ephemeral_provider
from ..sync import presence as presence_provider
from ..sync import rooms as rooms_provider
from ..sync.context import SyncContext
from ..sync.response import SyncResponse
from ..sync.service import SyncRequest
from ..userdata.account_data import PUSH_RULES
from ..reading import v1_format

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
PROVIDERS = (rooms_provider, account_data_provider, ephemeral_provider, presence_provider)


def _joined(room_id: str, entry: dict, now: int, receipts: list[dict]) -> dict:
    timeline = entry["timeline"]
    for event in entry["ephemeral"]["events"]:
        if event.get("type") == "m.receipt":
            receipts.extend(v1_format.in_room([event], room_id))
    return {"room_id": room_id, "membership": "join",
            "state": v1_format.in_room(entry["state_after"]["events"], room_id),
            "messages": _messages(room_id, timeline, now),
            "account_data": entry["account_data"]["events"]}


def _messages(room_id: str, timeline: dict, end: int) -> dict:
    messages = {"chunk": v1_format.in_room(timeline["events"], room_id),
                "end": pagination_token(end)}
    if "prev_batch" in timeline:
        messages["start"] = timeline["prev_batch"]
    return messages


def initial_sync(user_id: str, device_id: str | None, *, limit: int | None,
                 archived: bool) -> dict:
    """GET /initialSync (see the module docstring)."""
    limit = min(DEFAULT_LIMIT if limit is None else limit, MAX_LIMIT)
    presence_provider.on_sync_request(
        SyncRequest(user_id, device_id or "", None, False, None, 0))
    room_filter = {"timeline": {"limit": limit}, "include_leave": archived}
    sync_filter = Filter.from_definition({"room": room_filter})
    response = SyncResponse()
    with read_snapshot():
        now = streams.current_position()
        ctx = SyncContext(user_id=user_id, device_id=device_id or "", since=None, now=now,
                          full_state=False, filter=sync_filter, set_presence=None,
                          use_state_after=True)
        for provider in PROVIDERS:
            provider.build(ctx, response)
        body = response.to_dict(sync_token(now), sync_filter.room, use_state_after=True)
        receipts: list[dict] = []
        rooms = [_joined(room_id, entry, now, receipts)
                 for room_id, entry in body["rooms"]["join"].items()]
        for room_id, entry in body["rooms"]["leave"].items():
            membership = ctx.memberships[room_id]
            rooms.append({"room_id": room_id, "membership": membership.membership,
                          "state": v1_format.in_room(entry["state_after"]["events"], room_id),
                          "messages": _messages(room_id, entry["timeline"],
                                                membership.position),
                          "account_data": entry["account_data"]["events"]})
        invites = [ctx.memberships[room_id].event_id for room_id in body["rooms"]["invite"]]
        rows = list(Event.select().where(Event.event_id.in_(invites))) if invites else []
        for event in serialize_events(rows, user_id, device_id, include_room_id=True):
            rooms.append({"room_id": event["room_id"], "membership": "invite",
                          "invite": event})
        for room in rooms:
            room["visibility"] = directory.get_visibility(room["room_id"])
    response.run_deferred()
    return {"end": sync_token(now), "rooms": rooms,
            "presence": v1_format.presence(body["presence"]["events"]),
            "account_data": [event for event in body["account_data"]["events"]
                             if event.get("type") != PUSH_RULES],
            "receipts": receipts}
