"""The user directory (spec: User Directory, POST /user_directory/search).

A user is searchable by a requester when they are joined to a room the requester is joined to,
or to a room anyone may look into (join rule ``public`` or history visibility
``world_readable``), which is the minimum the spec requires; other users stay hidden. The
requester itself is found only through such an open room (as in Synapse). Matching
is case-insensitive on the user ID and display name: every word of the search term must occur
in one of them.
"""

from __future__ import annotations

import json

import peewee

from ..models.rooms import CurrentState, Event
from ..models.users import User

MEMBER = "m.room.member"
JOIN_RULES = "m.room.join_rules"
HISTORY_VISIBILITY = "m.room.history_visibility"
# The server decides how many results a search may return at most.
MAX_LIMIT = 100
# Matches fetched for ranking; beyond this the answer is marked limited anyway.
MAX_CANDIDATES = 500
_LIKE_ESCAPE = "!"


def _rooms_open_to_all() -> list[str]:
    """Rooms whose current join rule is public or whose history is world readable."""
    rows = (Event.select(Event.room_id, Event.type, Event.json)
            .join(CurrentState, on=(Event.event_id == CurrentState.event_id))
            .where(CurrentState.type.in_([JOIN_RULES, HISTORY_VISIBILITY])
                   & (CurrentState.state_key == ""))
            .tuples())
    found = set()
    for room_id, event_type, text in rows:
        content = json.loads(text).get("content")
        if not isinstance(content, dict):
            continue
        if ((event_type == JOIN_RULES and content.get("join_rule") == "public")
                or (event_type == HISTORY_VISIBILITY
                    and content.get("history_visibility") == "world_readable")):
            found.add(room_id)
    return sorted(found)


def _like_pattern(word: str) -> str:
    escaped = (word.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2)
               .replace("%", _LIKE_ESCAPE + "%").replace("_", _LIKE_ESCAPE + "_"))
    return f"%{escaped}%"


def _contains(column, word: str):
    return peewee.NodeList((peewee.fn.LOWER(column), peewee.SQL("LIKE"), _like_pattern(word),
                            peewee.SQL(f"ESCAPE '{_LIKE_ESCAPE}'")))


def _visible_users(requester_id: str):
    """A subquery of the user IDs the requester may find."""
    shared_rooms = CurrentState.select(CurrentState.room_id).where(
        (CurrentState.type == MEMBER) & (CurrentState.state_key == requester_id)
        & (CurrentState.membership == "join"))
    # The requester shares its own rooms with itself: as in Synapse, it finds itself only
    # through a room open to all.
    in_room = (CurrentState.room_id.in_(shared_rooms)
               & (CurrentState.state_key != requester_id))
    open_rooms = _rooms_open_to_all()
    if open_rooms:
        in_room |= CurrentState.room_id.in_(open_rooms)
    return CurrentState.select(CurrentState.state_key).where(
        (CurrentState.type == MEMBER) & (CurrentState.membership == "join") & in_room)


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
             .where(User.user_id.in_(_visible_users(requester_id)) & ~User.deactivated))
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
