"""The ``extensions`` of sliding sync (MSC3885 to_device, MSC3884 e2ee, MSC3959 account_data,
MSC3960 receipts, MSC3961 typing), served from the same stream readers as /sync.

The lower bound is the stream position of the connection's previous response (none on a new
connection: the whole current picture). ``to_device`` keeps its own ``since`` token, which
acknowledges (deletes) the messages up to it exactly as a /sync ``since`` does. Per-room
extensions cover the rooms of the lists and subscriptions the extension names (all by
default, ``"*"``); a room sent ``initial`` gets its whole picture (its typing users, the
receipts of its timeline's events and the user's own, all its account data).
"""

from __future__ import annotations

from ..ephemeral import receipts, typing
from ..reading.filters import Filter
from ..reading.stream_tokens import parse_sync_token, sync_token
from ..sync import device_lists as device_lists_provider
from ..sync import to_device as to_device_provider
from ..sync.context import SyncContext
from ..sync.response import SyncResponse
from ..userdata import account_data
from ..users import account_data_reads
from .request import Extension


class ToDeviceRelease:
    """What ``to_device_provider.on_sync_request`` reads of a /sync request."""

    def __init__(self, user_id: str, device_id: str, since: int | None):
        self.user_id, self.device_id, self.since = user_id, device_id, since


def to_device_since(extension: Extension | None, current: int) -> int | None:
    if extension is None or not extension.since:
        return None
    return parse_sync_token(extension.since, current)


def before_build(user_id: str, device_id: str, extensions: dict, current: int) -> None:
    """Acknowledge the to-device messages the extension's ``since`` covers (outside any
    snapshot, before building: the same write as /sync's)."""
    if "to_device" in extensions:
        since = to_device_since(extensions["to_device"], current)
        to_device_provider.on_sync_request(ToDeviceRelease(user_id, device_id, since))


def scope(extension: Extension, list_rooms: dict[str, list[str]],
          subscribed: list[str]) -> list[str]:
    rooms = {room_id for name, room_ids in list_rooms.items() if extension.covers_list(name)
             for room_id in room_ids}
    rooms |= {room_id for room_id in subscribed if extension.covers_subscription(room_id)}
    return sorted(rooms)


def build(extensions: dict, *, user_id: str, device_id: str, now: int, prev: int | None,
          rooms_result) -> tuple[dict, bool]:
    """(the ``extensions`` object, whether it holds news that ends a long-poll)."""
    out: dict = {}
    news = False
    joined = rooms_result.joined
    if "to_device" in extensions:
        since = to_device_since(extensions["to_device"], now)
        ctx = SyncContext(user_id=user_id, device_id=device_id, since=since, now=now,
                               full_state=False, filter=Filter(), set_presence=None)
        response = SyncResponse()
        to_device_provider.build(ctx, response)
        events = response.top.get("to_device", {}).get("events", [])
        out["to_device"] = {"next_batch": sync_token(now), "events": events}
        news |= bool(events)
    if "e2ee" in extensions:
        ctx = SyncContext(user_id=user_id, device_id=device_id, since=prev, now=now,
                          full_state=False, filter=Filter(), set_presence=None)
        response = SyncResponse()
        device_lists_provider.build(ctx, response)
        e2ee = {"device_lists": response.top.get("device_lists", {"changed": [], "left": []})}
        for key in ("device_one_time_keys_count", "device_unused_fallback_key_types"):
            e2ee[key] = response.top[key]
        out["e2ee"] = e2ee
        news |= bool(e2ee["device_lists"]["changed"] or e2ee["device_lists"]["left"])

    def rooms_of(name: str) -> tuple[list[str], list[str]]:
        """(initial rooms, other rooms) the extension covers, joined ones only."""
        covered = [room_id for room_id in scope(extensions[name], rooms_result.list_rooms,
                                                rooms_result.subscribed) if room_id in joined]
        initial = [room_id for room_id in covered if room_id in rooms_result.initial]
        return initial, [room_id for room_id in covered if room_id not in rooms_result.initial]

    if "account_data" in extensions:
        initial, others = rooms_of("account_data")
        changes = account_data_reads.changes(user_id, prev, now)
        per_room = {room_id: events for room_id, events in changes.room_events.items()
                    if room_id in others or (prev is None and room_id in initial)}
        if initial and prev is not None:
            everything = account_data_reads.changes(user_id, None, now).room_events
            per_room.update({room_id: everything[room_id] for room_id in initial
                             if room_id in everything})
        out["account_data"] = {"global": changes.global_events, "rooms": per_room}
        news |= bool(changes.global_events or per_room)
    if "receipts" in extensions:
        initial, others = rooms_of("receipts")
        found = (receipts.receipts_in(others, user_id, since=prev, upto=now)
                 if prev is not None else {})
        for room_id, event in receipts.receipts_in(initial, user_id, since=None,
                                                   upto=now).items():
            kept = _receipts_for(event, rooms_result.timeline_ids.get(room_id, set()), user_id)
            if kept is not None:
                found[room_id] = kept
        out["receipts"] = {"rooms": found}
        news |= bool(found)
    if "typing" in extensions:
        initial, others = rooms_of("typing")
        hide = account_data.ignored_users(user_id)
        found = typing.typing_events(initial if prev is not None else initial + others,
                                     since=None,
                                     upto=now, hide=hide)
        if prev is not None:
            found.update(typing.typing_events(others, since=prev, upto=now, hide=hide))
        out["typing"] = {"rooms": found}
        news |= bool(found)
    return out, news


def _receipts_for(event: dict, event_ids: set[str], user_id: str) -> dict | None:
    """An initial room's receipts: those on its timeline's events, and the user's own."""
    content = {}
    for event_id, by_type in event["content"].items():
        for receipt_type, by_user in by_type.items():
            for reader, data in by_user.items():
                if event_id in event_ids or reader == user_id:
                    content.setdefault(event_id, {}).setdefault(receipt_type, {})[reader] = data
    return {"type": "m.receipt", "content": content} if content else None
