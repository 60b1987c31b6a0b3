"""Presence (PUT/GET /presence/{userId}/status, set_presence on /sync, m.presence in /sync).

A user's row holds the state they (or their syncing clients) last chose, and two times:
``last_active_ts`` (last pro-active action: a message, going online) and ``last_seen_ts`` (last
sign of a connected client). Readers derive the shown state: offline when no client was seen
for ``offline_after_ms``, unavailable when an online user was inactive for ``idle_after_ms``.
``expire_due`` (services/ephemeral_expiry) writes those derived changes with a stream position
so syncs deliver them. Presence is delivered to users who share a room with the user, and a
user's current presence again when they start sharing one (either side joins; as Synapse).

The settings come from the ``presence`` configuration section (``configure``, called when the
app is built; every process of a deployment has the same configuration).
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from typing import NamedTuple

import peewee

from ... import clock, errors
from ...db import run_sql, write_transaction
from ...models.presence import Presence
from ...models.rooms import CurrentState, Event
from ...models.users import User
from ..event_types import MEMBER
from ..rooms.state import co_members_query, joined_rooms, joined_rooms_query
from ..streams.long_polls import registry as long_polls
from ..streams.positions import next_position
from ..write_behind import SeenTimes

ONLINE, UNAVAILABLE, OFFLINE = "online", "unavailable", "offline"
STATES = (ONLINE, UNAVAILABLE, OFFLINE)
# An online user active within this window is "currently_active".
CURRENTLY_ACTIVE_MS = 60_000
# Times only needing a refresh (no state change) are written at most this often.
REFRESH_GRANULARITY_MS = 10_000


@dataclass(frozen=True)
class Settings:
    enabled: bool = True
    idle_after_ms: int = 5 * 60 * 1000
    offline_after_ms: int = 60 * 1000


_settings = Settings()


def configure(section: dict) -> None:
    global _settings, _waiting_noted_at
    _settings = Settings(enabled=section["enabled"], idle_after_ms=section["idle_after_ms"],
                         offline_after_ms=section["offline_after_ms"])
    # A new app (each test makes one, its clock starting anew) notes waiting clients afresh.
    _waiting_noted_at = 0


def settings() -> Settings:
    return _settings


def shown_state(row: Presence, now: int) -> str:
    if row.state == OFFLINE or now - row.last_seen_ts > _settings.offline_after_ms:
        return OFFLINE
    if row.state == ONLINE and now - row.last_active_ts > _settings.idle_after_ms:
        return UNAVAILABLE
    return row.state


# --- membership ---------------------------------------------------------------------------------

def shares_a_room(user_id: str, other: str) -> bool:
    return (CurrentState.select().where(
        (CurrentState.type == MEMBER) & (CurrentState.state_key == other)
        & (CurrentState.membership == "join")
        & CurrentState.room_id.in_(joined_rooms_query(user_id))).exists())


# --- writing ------------------------------------------------------------------------------------

def _save(user_id: str, row: Presence | None, *, notify: bool, **values) -> None:
    if notify:
        # The rooms as they are at this position (a join committing meanwhile counts).
        values["stream_id"] = next_position(rooms=lambda: joined_rooms(user_id),
                                            users=[user_id])
    if row is None:
        values.setdefault("stream_id", 0)
        # Two first syncs of one user may race to create the row (PostgreSQL lets both
        # transactions see it missing): the later one updates instead of failing.
        (Presence.insert(user_id=user_id, **values)
         .on_conflict(conflict_target=[Presence.user_id], update=values).execute())
    else:
        Presence.update(**values).where(Presence.user_id == user_id).execute()


def set_presence(requester_user_id: str, user_id: str, state: str,
                 status_msg: str | None) -> None:
    """PUT /presence/{userId}/status."""
    if requester_user_id != user_id:
        raise errors.Forbidden("You cannot set the presence state of another user")
    if not _settings.enabled:
        return
    now = clock.now_ms()
    with write_transaction():
        row = _row(user_id)
        last_active = now if state == ONLINE or row is None else row.last_active_ts
        _save(user_id, row, notify=True, state=state, status_msg=status_msg,
              last_active_ts=last_active, last_seen_ts=now)


def on_sync(user_id: str, set_presence: str | None) -> None:
    """A /sync arrived: mark the user online (or unavailable) unless it says offline."""
    if not _settings.enabled or set_presence == OFFLINE:
        return
    target = UNAVAILABLE if set_presence == UNAVAILABLE else ONLINE
    now = clock.now_ms()
    row = _row(user_id)
    if row is not None:
        shown = shown_state(row, now)
        changes = (shown == OFFLINE) or (target == UNAVAILABLE and shown != UNAVAILABLE)
        if not changes:
            if now - row.last_seen_ts >= REFRESH_GRANULARITY_MS:
                _seen.note(user_id, now)
            return
    with write_transaction():
        row = _row(user_id)
        if row is None:
            _save(user_id, None, notify=True, state=target, last_active_ts=now,
                  last_seen_ts=now)
            return
        shown = shown_state(row, now)
        if shown == OFFLINE:
            # Coming (back) online counts as activity.
            _save(user_id, row, notify=True, state=target, last_active_ts=now,
                  last_seen_ts=now)
        elif target == UNAVAILABLE and shown != UNAVAILABLE:
            _save(user_id, row, notify=True, state=UNAVAILABLE, last_seen_ts=now)
        elif now - row.last_seen_ts >= REFRESH_GRANULARITY_MS:
            _seen.note(user_id, now)


def _write_seen(batch: list[tuple[str, int]]) -> None:
    for user_id, seen_ts in batch:
        run_sql(_REFRESH_SEEN, (seen_ts, user_id, seen_ts))


_REFRESH_SEEN = (f"UPDATE {Presence._meta.table_name} SET last_seen_ts = ? "
                 "WHERE user_id = ? AND last_seen_ts < ?")
# A connected client's sync only refreshes last_seen_ts: written behind, for all users of the
# process at once (services/write_behind.py).
_seen = SeenTimes(REFRESH_GRANULARITY_MS, _write_seen)


# One user's row as a fixed statement (db.run_sql): read on every event sent.
_COLUMNS = [f.column_name for f in Presence._meta.sorted_fields]
_PresenceRow = namedtuple("_PresenceRow", _COLUMNS)
_SELECT_ONE = (f"SELECT {', '.join(_COLUMNS)} FROM {Presence._meta.table_name} "
               f"WHERE user_id = ?")


COLUMNS = tuple(_COLUMNS)
_UNREAD = object()


def _from_columns(found: tuple | None) -> Presence | None:
    return None if found is None else Presence(**dict(zip(_COLUMNS, found)))


def _row(user_id: str) -> Presence | None:
    """The user's row, read with the fixed statement (every /sync reads it too)."""
    return _from_columns(run_sql(_SELECT_ONE, (user_id,)).fetchone())


def on_activity(user_id: str, found=_UNREAD) -> None:
    """The user did something pro-active (sent an event): call inside that write transaction.
    An unavailable or offline user becomes online again (spec: Idle timeout). ``found``: the
    user's row (its ``COLUMNS``, or None for no row) when the caller read it already."""
    row = _row(user_id) if found is _UNREAD else _from_columns(found)
    if row is None:
        return  # presence never tracked for this user (or presence is off)
    now = clock.now_ms()
    if shown_state(row, now) != ONLINE:
        _save(user_id, row, notify=True, state=ONLINE, last_active_ts=now, last_seen_ts=now)
    elif now - row.last_active_ts > REFRESH_GRANULARITY_MS:
        _save(user_id, row, notify=False, last_active_ts=now, last_seen_ts=now)


def on_profile_changed(user_id: str) -> None:
    """Display name or avatar changed: send the user's presence again (it carries them)."""
    with write_transaction():
        row = _row(user_id)
        if row is not None:
            _save(user_id, row, notify=True)


def _note_waiting_clients(now: int) -> None:
    """A client holding a long-poll here is connected, however long ago its request came in
    (Synapse counts a user online while a sync is in flight): its time is refreshed every
    third of ``offline_after_ms``, so no process's sweep takes it for gone."""
    global _waiting_noted_at
    if 0 <= now - _waiting_noted_at < _settings.offline_after_ms // 3:
        return
    _waiting_noted_at = now
    for user_id in long_polls.users_present():
        _seen.note(user_id, now)


_waiting_noted_at = 0


def _transitions_due(now: int) -> list[tuple[Presence, str]]:
    """(row, state to write) of the users who went idle or offline."""
    gone = (Presence.state != OFFLINE) & (Presence.last_seen_ts < now - _settings.offline_after_ms)
    idle = ((Presence.state == ONLINE)
            & (Presence.last_active_ts < now - _settings.idle_after_ms))
    due = []
    # In user order, as the last-seen flush (``_write_seen``) takes its rows: two sweeps, or a
    # sweep and a flush, locking rows in different orders deadlock on PostgreSQL.
    for row in Presence.select().where(gone | idle).order_by(Presence.user_id):
        # A refresh of this process not written yet (the writes of others are at most one
        # interval behind, far less than offline_after_ms).
        row.last_seen_ts = max(row.last_seen_ts, _seen.pending(row.user_id) or 0)
        state = shown_state(row, now)
        if state != row.state:
            due.append((row, state))
    return due


def expire_due() -> int:
    """Write the idle (online -> unavailable) and offline transitions that came due; how
    many were written."""
    if not _settings.enabled:
        return 0
    now = clock.now_ms()
    _note_waiting_clients(now)
    if not _transitions_due(now):
        return 0
    with write_transaction():
        # Read again in the writer's turn: what was due may have changed while this waited
        # (a sync of another process bringing the user back, another process's sweep).
        due = _transitions_due(now)
        for row, state in due:
            _save(row.user_id, row, notify=True, state=state)
    return len(due)


# --- reading ------------------------------------------------------------------------------------

class _Profile(NamedTuple):
    displayname: str | None
    avatar_url: str | None


def _content(row, user: _Profile | None, now: int) -> dict:
    if row is None:
        content = {"presence": OFFLINE}
    else:
        state = shown_state(row, now)
        content = {"presence": state, "last_active_ago": max(0, now - row.last_active_ts)}
        if state == ONLINE:
            content["currently_active"] = now - row.last_active_ts < CURRENTLY_ACTIVE_MS
        if row.status_msg is not None:
            content["status_msg"] = row.status_msg
    if user is not None:
        if user.displayname is not None:
            content["displayname"] = user.displayname
        if user.avatar_url is not None:
            content["avatar_url"] = user.avatar_url
    return content


def get_presence(requester_user_id: str, user_id: str) -> dict:
    """GET /presence/{userId}/status."""
    if not _settings.enabled:
        raise errors.NotFound("Presence is not enabled on this server")
    user = User.get_or_none(User.user_id == user_id)
    if user is None:
        raise errors.NotFound("No presence for this user")
    if requester_user_id != user_id and not shares_a_room(requester_user_id, user_id):
        raise errors.Forbidden("You are not allowed to see their presence")
    row = _row(user_id)
    # No status_msg key when none is set: a null breaks clients (matrix-nio).
    return _content(row, None, clock.now_ms())


def presence_of(user_ids: list[str]) -> list[dict]:
    """m.presence events of these users as of now ([] when presence is disabled): the
    ``presence`` of a room initialSync, for the room's members."""
    if not _settings.enabled or not user_ids:
        return []
    rows = {row.user_id: row for row in Presence.select()
            .where(Presence.user_id.in_(sorted(user_ids))).namedtuples()}
    return _events([rows.get(user_id, user_id) for user_id in sorted(user_ids)])


def newly_shared_users(joined_rooms: set[str], rooms_joined_since: set[str], since: int,
                       upto: int) -> set[str]:
    """Users who started sharing a room with a viewer in (since, upto]: the members of the
    rooms the viewer joined since, and those who joined the viewer's other rooms since
    (a join replacing a join is a profile change, not a newcomer)."""
    users: set[str] = set()
    if rooms_joined_since:
        users |= {user for (user,) in CurrentState.select(CurrentState.state_key).where(
            (CurrentState.type == MEMBER) & (CurrentState.membership == "join")
            & CurrentState.room_id.in_(sorted(rooms_joined_since))).tuples()}
    others = sorted(joined_rooms - rooms_joined_since)
    if others:
        previous = Event.alias()
        users |= {user for (user,) in Event.select(Event.state_key).join(
            previous, peewee.JOIN.LEFT_OUTER, on=(Event.replaces_state == previous.event_id))
            .where(Event.room.in_(others) & (Event.type == MEMBER)
                   & (Event.membership == "join") & (Event.stream_ordering > since)
                   & (Event.stream_ordering <= upto)
                   & (previous.membership.is_null() | (previous.membership != "join")))
            .tuples()}
    return users


def presence_events(viewer: str, *, since: int | None, upto: int,
                    also: set[str] = frozenset()) -> list[dict]:
    """m.presence events of the viewer and the users sharing a room with them that changed in
    (since, upto] (all known ones when ``since`` is None), and the presence at ``upto`` of the
    users in ``also`` (who started sharing a room with the viewer) whatever its age."""
    if not _settings.enabled:
        return []
    if since is not None and not also:
        # Every incremental /sync (each woken long-poll) asks this: a fixed statement.
        return _events([_PresenceRow(*row) for row in run_sql(
            _CHANGED_NEAR_VIEWER, (since, upto, viewer, MEMBER, MEMBER, viewer))])
    where = (Presence.stream_id <= upto) & (
        (Presence.user_id == viewer) | Presence.user_id.in_(co_members_query(viewer)))
    if since is not None:
        changed = Presence.stream_id > since
        if also:
            changed |= Presence.user_id.in_(sorted(also))
        where &= changed
    rows: list = list(Presence.select().where(where).order_by(Presence.stream_id)
                      .namedtuples())
    # Newcomers never seen online have no row: they are offline (as Synapse's default state).
    missing = sorted(set(also) - {row.user_id for row in rows})
    if missing:
        missing = sorted(set(missing) - {user for (user,) in Presence.select(Presence.user_id)
                                         .where(Presence.user_id.in_(missing)).tuples()})
    if missing:
        rows += sorted(user for (user,) in co_members_query(viewer).where(
            CurrentState.state_key.in_(missing)).distinct().tuples())
    return _events(rows)


# ``presence_events`` with ``since`` and no ``also``, as co_members_query and
# joined_rooms_query select (rows as ``_PresenceRow``).
_STATE = CurrentState._meta.table_name
_CHANGED_NEAR_VIEWER = (
    f"SELECT {', '.join('pr.' + c for c in _COLUMNS)} FROM {Presence._meta.table_name} pr "
    f"WHERE pr.stream_id > ? AND pr.stream_id <= ? AND (pr.user_id = ? OR pr.user_id IN ("
    f"SELECT c.state_key FROM {_STATE} c WHERE c.type = ? AND c.membership = 'join' "
    f"AND c.room_id IN (SELECT j.room_id FROM {_STATE} j WHERE j.type = ? "
    f"AND j.state_key = ? AND j.membership = 'join'))) ORDER BY pr.stream_id")


def room_members_presence(room_id: str, *, since: int, upto: int) -> list[dict]:
    """m.presence events of a room's joined members whose presence changed in (since, upto]:
    what a user peeking at the room reads (GET /events?room_id=), as in Synapse."""
    if not _settings.enabled:
        return []
    members = CurrentState.select(CurrentState.state_key).where(
        (CurrentState.room == room_id) & (CurrentState.type == MEMBER)
        & (CurrentState.membership == "join"))
    return _events(list(Presence.select().where(
        Presence.user_id.in_(members) & (Presence.stream_id > since)
        & (Presence.stream_id <= upto)).order_by(Presence.stream_id).namedtuples()))


def _events(rows: list) -> list[dict]:
    """m.presence events of these rows (Presence rows or their named tuples; a user ID alone:
    no row, so offline). Rows and profiles are read as tuples: an initial sync in a room of
    500 reads 500 of each, and model instances cost more than the query."""
    if not rows:
        return []
    ids = [row if isinstance(row, str) else row.user_id for row in rows]
    users = {user_id: _Profile(displayname, avatar_url) for user_id, displayname, avatar_url
             in User.select(User.user_id, User.displayname, User.avatar_url)
             .where(User.user_id.in_(ids)).tuples()}
    now = clock.now_ms()
    return [{"type": "m.presence", "sender": user_id,
             "content": _content(None if isinstance(row, str) else row, users.get(user_id), now)}
            for user_id, row in zip(ids, rows)]


def changes_between(since: int, upto: int, limit: int) -> list[dict]:
    """m.presence events of the users whose presence changed in (since, upto], oldest change
    first, at most ``limit`` ([] when presence is disabled): for application services, which
    pick those of their interest."""
    if not _settings.enabled or upto <= since:
        return []
    return _events(list(Presence.select()
                        .where((Presence.stream_id > since) & (Presence.stream_id <= upto))
                        .order_by(Presence.stream_id).limit(limit).namedtuples()))
