"""The user directory (spec: User Directory, POST /user_directory/search).

A user is searchable by a requester when they are joined to a room the requester is joined to,
or to a room anyone may look into (join rule ``public`` or history visibility
``world_readable``), which is the minimum the spec requires; other users stay hidden. The
requester itself is found only through such an open room (as in Synapse). Matching
is case-insensitive on the user ID and display name: every word of the search term must occur
in one of them.
"""

from __future__ import annotations

import peewee
from peewee import fn

from ...models.rooms import CurrentState, Room
from ...models.users import User
from ..event_types import MEMBER
from ..rooms.state import joined_rooms_query
from ..sql_text import contains as _contains

# The server decides how many results a search may return at most.
MAX_LIMIT = 100
# Matches fetched for ranking; beyond this the answer is marked limited anyway.
MAX_CANDIDATES = 500


def _visible(requester_id: str, user_id_column):
    """The user in ``user_id_column`` is joined to a room the requester is joined to, or to a
    room open to all. Per candidate user this walks their own joined rooms through the
    (state_key, type, membership) index and looks each up by primary key: the cost follows the
    candidate's rooms, never the number of rooms on the server."""
    theirs = CurrentState.alias("theirs")
    shared_rooms = joined_rooms_query(requester_id)
    return fn.EXISTS(
        theirs.select(theirs.room_id)
        .join(Room, on=(Room.room_id == theirs.room_id))
        .where((theirs.type == MEMBER) & (theirs.state_key == user_id_column)
               & (theirs.membership == "join")
               & ((Room.join_rule == "public") | (Room.history_visibility == "world_readable")
                  # As in Synapse, the requester finds itself only through a room open to all.
                  | (theirs.room_id.in_(shared_rooms) & (user_id_column != requester_id)))))


def _rank(term: str, user_id: str, displayname: str | None, avatar_url: str | None) -> tuple:
    localpart = user_id[1:].split(":", 1)[0].lower()
    name = (displayname or "").lower()
    names = [localpart, name] + name.split()
    if term in (localpart, name, user_id.lower()):
        closeness = 0
    elif any(part.startswith(term) for part in names):
        closeness = 1
    else:
        closeness = 2
    # Then, as the spec orders results, whether profile information is available.
    return (closeness, displayname is None, avatar_url is None, user_id)


def search(requester_id: str, search_term: str, limit: int) -> dict:
    limit = min(limit, MAX_LIMIT)
    words = search_term.lower().split()
    if not words:
        return {"results": [], "limited": False}
    query = (User.select(User.user_id, User.displayname, User.avatar_url)
             # Guests are never listed (as Synapse): they are passers-by, not people to find.
             .where(~User.deactivated & ~User.is_guest & _visible(requester_id, User.user_id)))
    for word in words:
        query = query.where(_contains(User.user_id, word) | _contains(User.displayname, word))
    rows = list(query.order_by(User.user_id).limit(MAX_CANDIDATES).tuples())
    term = " ".join(words)
    rows.sort(key=lambda row: _rank(term, *row))
    results = []
    for user_id, displayname, avatar_url in rows[:limit]:
        entry = {"user_id": user_id}
        if displayname is not None:
            entry["display_name"] = displayname
        if avatar_url is not None:
            entry["avatar_url"] = avatar_url
        results.append(entry)
    return {"results": results, "limited": len(rows) > limit}
