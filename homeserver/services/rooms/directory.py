"""The published room directory (spec: "Published room directory"): which rooms are listed
(``room.is_public``), who may change that, and GET/POST /publicRooms.

Listing order: most joined members first, then room ID (stable). Pagination tokens are opaque
to clients: ``n<offset>`` continues forwards from offset, ``p<offset>`` goes back from it.
"""

from __future__ import annotations

import json

from ... import errors
from ...db import write_transaction
from ...identifiers import is_ascii_number
from ...models.appservice import AppServiceRoomList
from ...models.rooms import CurrentState, Event, Room
from . import power_levels
from . import state as room_state
from .room_versions import get_room_version

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
# With a search term or room types, at most this many rooms are looked at for one page, read
# this many at a time.
MAX_SCANNED = 1000
SCAN_BATCH = 100

_SUMMARY_TYPES = ("m.room.create", "m.room.name", "m.room.topic", "m.room.avatar",
                  "m.room.canonical_alias", "m.room.join_rules", "m.room.history_visibility",
                  "m.room.guest_access")


def _room(room_id: str) -> Room:
    room = Room.get_or_none(Room.room_id == room_id)
    if room is None:
        raise errors.NotFound("Room not found")
    return room


def get_visibility(room_id: str) -> str:
    return "public" if _room(room_id).is_public else "private"


def set_visibility(user_id: str, room_id: str, visibility: str, *,
                   is_admin: bool = False) -> None:
    """Publish or unpublish: server admins, and joined members allowed to set the room's
    canonical alias (the same people who curate how the room is found)."""
    room = _room(room_id)
    if not is_admin:
        rows = room_state.current_state(room_id, types=["m.room.create", "m.room.power_levels"])
        auth_state = {key: json.loads(row.json) for key, row in rows.items()}
        version = get_room_version(room.room_version)
        if room_state.membership(room_id, user_id) != "join" or power_levels.user_level(
                auth_state, user_id, version) < power_levels.event_level(
                auth_state, "m.room.canonical_alias", True, version):
            raise errors.Forbidden("You do not have permission to change this room's "
                                   "visibility in the directory")
    Room.update(is_public=visibility == "public").where(Room.room_id == room_id).execute()


def set_network_visibility(service_id: str, network_id: str, room_id: str,
                           visibility: str) -> None:
    """PUT /directory/list/appservice/{networkId}/{roomId}: a service (de)lists a room in its
    network's directory (the caller checked the service's as_token)."""
    _room(room_id)
    key = ((AppServiceRoomList.service_id == service_id)
           & (AppServiceRoomList.network_id == network_id)
           & (AppServiceRoomList.room_id == room_id))
    with write_transaction():
        if visibility == "public":
            if not AppServiceRoomList.select().where(key).exists():
                AppServiceRoomList.insert(service_id=service_id, network_id=network_id,
                                          room_id=room_id).execute()
        else:
            AppServiceRoomList.delete().where(key).execute()


def summaries(room_ids: list[str]) -> dict[str, dict]:
    """The public-rooms chunk of each room (only the spec's fields: some clients build
    objects from these keys and fail on unknown ones)."""
    if not room_ids:
        return {}
    rows = (Event.select(Event.room, Event.type, Event.json)
            .join(CurrentState, on=(Event.event_id == CurrentState.event_id))
            .where(CurrentState.room.in_(room_ids) & CurrentState.type.in_(_SUMMARY_TYPES)
                   & (CurrentState.state_key == "")))
    contents: dict[str, dict[str, dict]] = {room_id: {} for room_id in room_ids}
    for row in rows:
        content = json.loads(row.json).get("content")
        contents[row.room_id][row.type] = content if isinstance(content, dict) else {}
    counts = room_state.joined_member_count(room_ids)
    return {room_id: _chunk(room_id, contents[room_id], counts[room_id]) for room_id in room_ids}


def _chunk(room_id: str, state: dict[str, dict], joined: int) -> dict:
    def text(event_type: str, key: str) -> str | None:
        value = state.get(event_type, {}).get(key)
        return value if isinstance(value, str) and value else None

    chunk = {
        "room_id": room_id,
        "num_joined_members": joined,
        "world_readable": text("m.room.history_visibility", "history_visibility")
        == "world_readable",
        "guest_can_join": text("m.room.guest_access", "guest_access") == "can_join",
        "join_rule": text("m.room.join_rules", "join_rule") or "public",
    }
    for key, value in (("name", text("m.room.name", "name")),
                       ("topic", _plain_topic(state.get("m.room.topic", {}))),
                       ("avatar_url", text("m.room.avatar", "url")),
                       ("canonical_alias", text("m.room.canonical_alias", "alias")),
                       ("room_type", text("m.room.create", "type"))):
        if value is not None:
            chunk[key] = value
    return chunk


def _plain_topic(content: dict) -> str | None:
    blocks = content.get("m.topic")
    if isinstance(blocks, list):
        for block in blocks:
            if (isinstance(block, dict) and block.get("mimetype", "text/plain") == "text/plain"
                    and isinstance(block.get("body"), str)):
                return block["body"]
    topic = content.get("topic")
    return topic if isinstance(topic, str) and topic else None


def _matches(chunk: dict, search: str | None, room_types: list | None) -> bool:
    if room_types is not None and chunk.get("room_type") not in room_types:
        return False
    if search:
        needle = search.casefold()
        haystack = [chunk.get("name"), chunk.get("topic"), chunk.get("canonical_alias"),
                    chunk["room_id"]]
        if not any(isinstance(h, str) and needle in h.casefold() for h in haystack):
            return False
    return True


def _parse_since(since: str | None) -> tuple[str, int]:
    if since is None:
        return "n", 0
    if since[:1] in ("n", "p") and is_ascii_number(since[1:], 10):
        return since[0], int(since[1:])
    raise errors.InvalidParam("Invalid 'since' token")


def _listed(network: tuple[str, str] | None, all_networks: bool):
    """Which rooms a listing holds: the main directory, one application service network's
    (``network`` = (service ID, network ID)), or both kinds (``all_networks``)."""
    if network is not None:
        return Room.room_id.in_(AppServiceRoomList.select(AppServiceRoomList.room_id).where(
            (AppServiceRoomList.service_id == network[0])
            & (AppServiceRoomList.network_id == network[1])))
    main = Room.is_public == True  # noqa: E712
    if all_networks:
        return main | Room.room_id.in_(AppServiceRoomList.select(AppServiceRoomList.room_id))
    return main


def _ordered_public_rooms(listed):
    """Published rooms in listing order (index room_is_public_joined_members)."""
    return Room.select(Room.room_id).where(listed).order_by(Room.joined_members.desc(),
                                                            Room.room_id)


def parse_instance_id(instance_id: str) -> tuple[str, str]:
    """A third_party_instance_id: ``<service id>|<network id>``, as Synapse forms it (and
    /thirdparty/protocols hands out); any other names no network, so an empty list."""
    service_id, _, network_id = instance_id.partition("|")
    return service_id, network_id


def _scan(listed, offset: int, forwards: bool, limit: int, search: str | None,
          room_types: list | None) -> tuple[list[dict], int, int]:
    """Walk the listing from ``offset`` (forwards, or backwards from just before it) in pages
    of SQL until ``limit`` rooms match or MAX_SCANNED rooms were looked at; returns (matching
    chunks in listing order, first offset looked at, offset after the last one)."""
    filtered = bool(search) or room_types is not None
    budget = MAX_SCANNED if filtered else limit
    found: list[dict] = []
    start = end = offset
    while len(found) < limit and budget > 0:
        size = min(budget, limit - len(found) if not filtered else SCAN_BATCH)
        if forwards:
            lo = end
        else:
            lo = max(0, start - size)
            size = start - lo
        if size <= 0:
            break
        batch = [r for (r,) in _ordered_public_rooms(listed).offset(lo).limit(size).tuples()]
        budget -= size
        chunks = summaries(batch)
        matches = [chunks[r] for r in batch if _matches(chunks[r], search, room_types)]
        if forwards:
            end = lo + len(batch)
            take = matches[:limit - len(found)]
            found += take
            if len(take) < len(matches):  # the page filled mid-batch: resume after its last
                end = lo + batch.index(take[-1]["room_id"]) + 1
            if len(batch) < size:
                break
        else:
            start = lo
            take = matches[len(matches) - (limit - len(found)):] if limit - len(found) < len(
                matches) else matches
            found = take + found
            if len(take) < len(matches):
                start = lo + batch.index(take[0]["room_id"])
    return found, start, end


def public_rooms(*, limit: int | None = None, since: str | None = None,
                 search: str | None = None, room_types: list | None = None,
                 third_party_instance_id: str | None = None,
                 include_all_networks: bool = False) -> dict:
    """GET/POST /publicRooms for this server's directory.

    One page costs the rooms of the page (at most MAX_SCANNED with a filter), never the whole
    directory: rooms are paged in SQL by (joined members, room ID) on columns the event writer
    keeps, and only the page's rooms have their state read. With a filter a page may hold fewer
    rooms than asked and still have a next_batch (the spec allows it: clients keep paging).
    """
    limit = DEFAULT_LIMIT if limit is None or limit <= 0 else min(limit, MAX_LIMIT)
    direction, offset = _parse_since(since)
    network = None
    if third_party_instance_id is not None and not include_all_networks:
        network = parse_instance_id(third_party_instance_id)
    listed = _listed(network, include_all_networks)
    total = Room.select().where(listed).count()
    offset = min(offset, total)
    page, start, end = _scan(listed, offset, direction == "n", limit, search, room_types)
    if direction == "p":
        end = offset
    body: dict = {"chunk": page, "total_room_count_estimate": total}
    if end < total:
        body["next_batch"] = f"n{end}"
    if start > 0:
        body["prev_batch"] = f"p{start}"
    return body
