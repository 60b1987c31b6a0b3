"""The only writer of room events.

Every event of every room is appended here, one at a time, inside a write transaction that
holds the room's write lock (PostgreSQL: ``SELECT ... FOR UPDATE`` on the room row; SQLite:
``BEGIN IMMEDIATE`` already serializes writers). So a room's history is a line: each event's
``prev_events`` is the previous event, ``depth`` counts up by one, and the auth rules are checked
against exactly the state the event extends. An event the rules refuse raises before anything
is written, and the transaction rolls back: nothing is stored for it.

Two ways in:

- ``send_message(...)`` / ``redact(...)``: a client's PUT /send and /redact: the suspension
  and rate-limit policy (``policy/``), then ``send_event``.
- ``send_event(...)`` / ``send_state_event(...)``: one event as user X, in its own transaction,
  with optional txnId idempotency (``TxnKey``). Other services use these, e.g. to update a
  user's m.room.member events after a profile change; they charge no client's rate limit.
- ``RoomAppender``: several events in one transaction (room creation, upgrades), opened inside
  the caller's ``write_transaction()`` with ``RoomAppender.lock(room_id)`` (or ``.new(...)``
  for a room being created).

Each appended event gets the next stream position (``streams.next_position``) inside the same
transaction, updates ``current_state`` (and the membership index in it) when it is a state
event, moves ``room.latest_event_id``/``latest_depth``, and has its push rules evaluated
(``push_actions.on_event_persisted``) before the transaction commits.
"""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import dataclass
from typing import Iterable

import peewee

from ... import clock, errors, identifiers
from ...db import StatementBatch, database, write_transaction
from ...models.rooms import Event, ForgottenRoom, Room
from ..event_types import BUMP_EVENT_TYPES, MEMBER
from ..policy import ratelimit, suspension, txn_ids
from ..policy.requester import Requester
from ..policy.txn_ids import TxnKey
from ..push import actions as push_actions
from ..rooms import auth_rules, event_content, event_format, event_store
from ..rooms.room_versions import RoomVersion, get_room_version
from ..server.metrics import EVENTS_PERSISTED
from ..streams import positions as streams

CREATE_KEY = ("m.room.create", "")

_ID_ALPHABET = string.ascii_letters


def new_room_id(server_name: str) -> str:
    """A random room ID for room versions 1-11 (v12 derives it from the create event)."""
    opaque = "".join(secrets.choice(_ID_ALPHABET) for _ in range(18))
    return f"!{opaque}:{server_name}"


@dataclass(frozen=True)
class Sent:
    event_id: str
    stream_ordering: int | None  # None when a retried txnId answered the first result


@dataclass
class _StateEntry:
    event_id: str
    pdu: dict


class RoomAppender:
    """Appends events to one room inside the caller's write transaction (see module doc)."""

    def __init__(self, room: Room, version: RoomVersion):
        self.room = room
        self.room_id = room.room_id
        self.version = version
        # (type, state_key) -> current state entry, or None when known to be absent.
        self._state: dict[tuple[str, str], _StateEntry | None] = {}
        self._latest_hashes: dict | None = None
        # True until the m.room.create event of a room being created stored its row.
        self._unsaved = False
        # What the push hook reads of the members, when read with the lock (lock_to_send).
        self._member_rows: list | None = None

    # --- opening ----------------------------------------------------------------------------

    @classmethod
    def lock(cls, room_id: str, *, missing: type[errors.MatrixError] = errors.Forbidden,
             missing_message: str = "You are not in this room") -> "RoomAppender":
        """Take the room's write lock (call inside write_transaction). An unknown room raises
        ``missing(missing_message)``."""
        room = event_store.lock_room(room_id) if isinstance(room_id, str) else None
        if room is None:
            raise missing(missing_message)
        return cls(room, get_room_version(room.room_version))

    @classmethod
    def new(cls, room_id: str | None, version: RoomVersion, creator: str) -> "RoomAppender":
        """A room about to be created; its first event must be the m.room.create event.
        ``room_id`` is None for v12+ rooms (derived from the create event's ID)."""
        room = Room(room_id=room_id, room_version=version.identifier, creator=creator,
                    latest_event_id=None, latest_depth=0, created_ts=clock.now_ms())
        appender = cls(room, version)
        appender._unsaved = True
        return appender

    @classmethod
    def lock_to_send(cls, room_id: str, sender: str, txn: TxnKey | None,
                     changes_membership: bool = True) -> tuple["RoomAppender", dict | None]:
        """``lock`` for one event sent by ``sender``, with what every send reads first under
        the lock read together (one round trip on PostgreSQL): the state its auth rules
        need in the common case, ``txn``'s first result (None when there is none), and
        unless the event ``changes_membership``, what its push hook reads of the members."""
        keys = [CREATE_KEY, ("m.room.power_levels", ""), (MEMBER, sender)]
        members = None if changes_membership else push_actions.members_read(room_id, sender)
        room, rows, first, member_rows = event_store.lock_room_and_read(
            room_id, keys, txn_ids.lookup(txn) if txn is not None else None, members) \
            if isinstance(room_id, str) else (None, [], None, None)
        if room is None:
            raise errors.Forbidden("You are not in this room")
        appender = cls(room, get_room_version(room.room_version))
        appender._loaded(keys, rows)
        appender._member_rows = member_rows
        return appender, txn_ids.result_of(first)

    # --- state ------------------------------------------------------------------------------

    def state(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict]:
        """The current state events (PDUs) at these keys, for those present."""
        keys = list(dict.fromkeys(keys))
        missing = [k for k in keys if k not in self._state]
        if missing and not self._unsaved:
            self._load(missing)
        for key in missing:
            self._state.setdefault(key, None)
        return {k: self._state[k].pdu for k in keys if self._state.get(k) is not None}

    def state_event(self, key: tuple[str, str]) -> dict | None:
        return self.state([key]).get(key)

    def _load(self, keys: list[tuple[str, str]]) -> None:
        self._loaded(keys, event_store.state_events(self.room_id, keys))

    def _loaded(self, keys: list[tuple[str, str]], rows) -> None:
        """Keep the state rows (type, state_key, event_id, json) read for ``keys``; the keys
        without a row are known to be absent."""
        for event_type, state_key, event_id, text in rows:
            self._state[(event_type, state_key)] = _StateEntry(event_id, json.loads(text))
        for key in keys:
            self._state.setdefault(key, None)

    def _current_entry(self, event_type: str, state_key: str) -> _StateEntry | None:
        self.state([(event_type, state_key)])
        return self._state.get((event_type, state_key))

    def membership(self, user_id: str) -> str | None:
        event = self.state_event((MEMBER, user_id))
        content = event.get("content") if event else None
        return content.get("membership") if isinstance(content, dict) else None

    # --- appending --------------------------------------------------------------------------

    def append(self, sender: str, event_type: str, content: dict, state_key: str | None = None,
               *, redacts: str | None = None, txn: TxnKey | None = None,
               dedupe: bool = False, last: bool = False) -> Sent:
        """Build, check and store one event; raise (storing nothing) if it is refused. With
        ``txn``, the txnId's result (the event ID) is recorded with the event. ``last``: the
        caller writes nothing more in its transaction (which may commit with the event's
        writes: ``StatementBatch.run(commit=True)``).

        With ``dedupe``, a state event that the auth rules allow but that repeats the current
        one (same sender, same content) stores nothing and answers the current event's ID
        (as Synapse does for a client setting identical state)."""
        if not isinstance(content, dict):
            raise errors.BadJson("Event content must be a JSON object")
        version = self.version
        is_create = event_type == "m.room.create" and state_key == ""
        if is_create and not self._unsaved:
            raise errors.Forbidden("The room already has an m.room.create event")
        if self._unsaved and not is_create:
            raise errors.Forbidden("The first event of a room must be its m.room.create event")
        event_format.check_canonical(content, version)
        if event_type == "m.room.redaction":
            content, redacts = _redaction_parts(version, content, redacts)
        event_content.check(version, self.room_id, event_type, state_key, content,
                            self.state_event, sender)

        keys = auth_rules.auth_event_keys(version, event_type, state_key, sender, content)
        auth_state = self.state([CREATE_KEY, *keys])
        auth_event_ids = [self._state[k].event_id for k in keys if self._state.get(k)]
        hashes = self._reference_hashes(keys) if version.event_id_in_pdu else None
        timestamp = clock.now_ms()
        while True:
            event_id, pdu = event_format.new_event(
                version, room_id=self.room_id, sender=sender, event_type=event_type,
                content=content, state_key=state_key,
                prev_event_ids=[self.room.latest_event_id] if self.room.latest_event_id else [],
                auth_event_ids=auth_event_ids, depth=self.room.latest_depth + 1,
                origin_server_ts=timestamp, server_name=identifiers.server_of(sender) or "",
                prev_event_hashes=hashes, redacts=redacts)
            room_id = self.room_id
            if is_create and version.room_id_from_create_event:
                room_id = event_format.room_id_for_create_event(event_id)
            auth_rules.check(version, pdu, auth_state, event_id=event_id, room_id=room_id)
            if not is_create or self._insert_room(room_id):
                break
            # The room ID is taken: v12 (the same creator made the same room this millisecond)
            # moves the timestamp on; older versions draw another random ID.
            timestamp += 1
            if not version.room_id_from_create_event:
                self.room_id = new_room_id(identifiers.server_of(self.room_id))
        if dedupe and state_key is not None:
            current = self._current_entry(event_type, state_key)
            if current is not None and current.pdu.get("sender") == sender \
                    and current.pdu.get("content") == content:
                return Sent(current.event_id, None)

        target = None
        if event_type == "m.room.redaction":
            target = self._redaction_target(redacts, sender, auth_state)
        annotation = event_content.annotation_key(content)
        relation = event_content.relation_of(content) if event_type != "m.room.redaction" \
            else None
        if annotation is not None and relation is not None:
            self._refuse_duplicate_annotation(sender, event_type, relation[0], annotation)

        previous = self._current_entry(event_type, state_key) if state_key is not None \
            else None
        membership = content.get("membership") if event_type == MEMBER else None
        membership = membership if isinstance(membership, str) else None
        row = dict(
            event_id=event_id, room_id=self.room_id, depth=pdu["depth"], type=event_type,
            state_key=state_key, sender=sender, origin_server_ts=pdu["origin_server_ts"],
            membership=membership, json=json.dumps(pdu, ensure_ascii=False, separators=(",", ":")),
            relates_to_id=relation[0] if relation else None,
            relation_type=relation[1] if relation else None,
            replaces_state=previous.event_id if previous else None,
            sender_device=txn.device_id if txn is not None else None,
            txn_id=txn.txn_id if txn is not None else None)
        if target is not None:
            self._apply_redaction(target, event_id)

        # From here on the stream counter's row is locked until commit (commit order must be
        # position order): everything that can happen before it, did.
        hint_users = [state_key] if event_type == MEMBER and state_key else []
        # The writes whose results nobody reads go out together (one round trip on
        # PostgreSQL) while the room and the stream counter are locked.
        batch = StatementBatch()
        position = streams.next_position(rooms=[self.room_id], users=hint_users, batch=batch)
        event_store.insert_event({**row, "stream_ordering": position}, batch)
        event_store.set_latest(self.room_id, event_id, pdu["depth"],
                               position if event_type in BUMP_EVENT_TYPES else None, batch)
        EVENTS_PERSISTED.inc()
        if state_key is not None:
            batch.run()  # current_state refers to the event's row
            self._set_current_state(event_type, state_key, event_id, pdu, position, previous,
                                    membership)
        self.room.latest_event_id = event_id
        self.room.latest_depth = pdu["depth"]
        self._latest_hashes = pdu.get("hashes")
        # Notifications and unread counts belong to the same transaction as the event.
        member_rows, self._member_rows = self._member_rows, None
        push_actions.on_event_persisted(self.room_id, event_id, pdu, position, version,
                                        auth_state, batch, member_rows)
        if txn is not None:
            txn_ids.record(txn, {"event_id": event_id}, batch)
        batch.run(commit=last)
        return Sent(event_id, position)

    def _insert_room(self, room_id: str) -> bool:
        """Store the new room's row; False when that room ID is taken (v12 room IDs are the
        create event's hash, so two identical creations in one millisecond would collide)."""
        self.room.room_id = room_id
        try:
            with database.atomic():  # a savepoint: a clash must not abort the transaction
                self.room.save(force_insert=True)
        except peewee.IntegrityError:
            return False
        self.room_id = room_id
        self._unsaved = False
        return True

    def _set_current_state(self, event_type, state_key, event_id, pdu, position, previous,
                           membership) -> None:
        event_store.set_current_state(self.room_id, event_type, state_key, event_id, position,
                                      membership, exists=previous is not None)
        self._state[(event_type, state_key)] = _StateEntry(event_id, pdu)
        _update_room_columns(self.room_id, event_type, state_key, pdu, previous)
        if event_type == MEMBER and membership in ("join", "invite", "knock"):
            ForgottenRoom.delete().where((ForgottenRoom.user_id == state_key)
                                         & (ForgottenRoom.room == self.room_id)).execute()

    def _reference_hashes(self, keys) -> dict[str, dict]:
        """v1-v2 PDUs reference other events with their hashes."""
        hashes = {entry.event_id: entry.pdu.get("hashes") or {}
                  for key in keys if (entry := self._state.get(key)) is not None}
        latest = self.room.latest_event_id
        if latest and latest not in hashes:
            if self._latest_hashes is None:
                row = Event.get_or_none(Event.event_id == latest)
                self._latest_hashes = json.loads(row.json).get("hashes") if row else {}
            hashes[latest] = self._latest_hashes or {}
        return hashes

    # --- redactions and annotations ---------------------------------------------------------

    def _redaction_target(self, redacts: str, sender: str, auth_state: dict) -> Event:
        target = Event.get_or_none((Event.event_id == redacts) & (Event.room == self.room_id))
        if target is None:
            # 400 as Synapse gives for another room's event; the same for an unknown one, so
            # the answer never tells whether an event ID exists elsewhere.
            raise errors.InvalidParam("The event to redact is not in this room")
        if not auth_rules.may_redact(self.version, auth_state, sender, target.sender):
            raise errors.Forbidden("You do not have permission to redact events of other users")
        return target

    def _apply_redaction(self, target: Event, redaction_id: str) -> None:
        if target.redacted_by is not None:
            return  # already redacted: the first redaction stays its redacted_because
        pdu = event_format.redact(json.loads(target.json), self.version)
        Event.update(json=json.dumps(pdu, ensure_ascii=False, separators=(",", ":")),
                     redacted_by=redaction_id, relates_to_id=None, relation_type=None).where(
            Event.event_id == target.event_id).execute()
        key = (target.type, target.state_key)
        entry = self._state.get(key) if target.state_key is not None else None
        if entry is not None and entry.event_id == target.event_id:
            entry.pdu = pdu

    def _refuse_duplicate_annotation(self, sender, event_type, parent_id, key) -> None:
        rows = Event.select(Event.json).where(
            (Event.relates_to_id == parent_id) & (Event.relation_type == "m.annotation")
            & (Event.sender == sender) & (Event.type == event_type)
            & Event.redacted_by.is_null())
        for row in rows:
            if event_content.annotation_key(json.loads(row.json).get("content") or {}) == key:
                raise event_content.DuplicateAnnotation(
                    "You already annotated this event with this key")


def _redaction_parts(version: RoomVersion, content: dict, redacts: str | None):
    """(content, redacts) of a redaction: `redacts` comes from the /redact path or, when sent
    through /send, from content; before v11 it moves out of content to the top level."""
    if redacts is None:
        redacts = content.get("redacts")
    if not isinstance(redacts, str) or not redacts.startswith("$"):
        raise errors.BadJson("A redaction needs 'redacts': the ID of the event to redact")
    content = {k: v for k, v in content.items() if k != "redacts"}
    return content, redacts


# --- one event in its own transaction -----------------------------------------------------------

# Current-state values copied onto the room row (event type -> (content key, Room column)).
# Room columns kept from the current state: event type -> (content key, column, longest
# value, whether a longer one is cut to fit or left out). Names and aliases are labels the
# admin room list sorts and searches by; the others are enumerations.
_ROOM_COLUMNS = {"m.room.join_rules": ("join_rule", "join_rule", 64, False),
                 "m.room.history_visibility": ("history_visibility", "history_visibility", 64,
                                               False),
                 "m.room.guest_access": ("guest_access", "guest_access", 64, False),
                 "m.room.encryption": ("algorithm", "encryption", 64, False),
                 "m.room.name": ("name", "name", 255, True),
                 "m.room.canonical_alias": ("alias", "canonical_alias", 255, True)}


def _content_text(pdu: dict | None, key: str) -> str | None:
    content = (pdu or {}).get("content")
    value = content.get(key) if isinstance(content, dict) else None
    return value if isinstance(value, str) and len(value) <= 64 else None


def _update_room_columns(room_id: str, event_type: str, state_key: str, pdu: dict,
                         previous: _StateEntry | None) -> None:
    """Keep Room's state columns (_ROOM_COLUMNS) and joined_members in step with the state
    (the room's write lock is held, so the count cannot drift)."""
    if event_type == MEMBER:
        was = _content_text(previous.pdu if previous else None, "membership") == "join"
        now = _content_text(pdu, "membership") == "join"
        if was != now:
            event_store.add_joined_members(room_id, 1 if now else -1)
    elif state_key == "" and event_type in _ROOM_COLUMNS:
        key, column, longest, cut = _ROOM_COLUMNS[event_type]
        content = (pdu or {}).get("content")
        value = content.get(key) if isinstance(content, dict) else None
        if not isinstance(value, str) or (len(value) > longest and not cut):
            value = None
        event_store.set_room_column(room_id, column, value and value[:longest])


def replayed_event_id(txn: TxnKey) -> str | None:
    """The event ID a retried send or redaction answers (its first result), or None. Views ask
    this before any rate limit: a retry after a lost response spends nothing."""
    first = txn_ids.previous_result(txn)
    return first["event_id"] if first is not None else None


def send_message(requester: Requester, room_id: str, event_type: str, content: dict, *,
                 txn: TxnKey | None, rate_rule: dict | None) -> Sent:
    """PUT /rooms/{roomId}/send/{eventType}/{txnId} (spec: "Sending events to a room"), once
    ``replayed_event_id`` found no first answer: refused to a suspended account, counted under
    ``rate_rule`` (``rate_limits.messages_per_user``), then sent."""
    suspension.ensure_not_suspended(requester)
    ratelimit.charge("send", requester, rate_rule)
    return send_event(requester.user_id, room_id, event_type, content, txn=txn)


def redact(requester: Requester, room_id: str, event_id: str, content: dict, *, txn: TxnKey,
           rate_rule: dict | None) -> Sent:
    """PUT /rooms/{roomId}/redact/{eventId}/{txnId} (spec: "Redactions"), once
    ``replayed_event_id`` found no first answer: a suspended account may redact only its own
    events; counted under ``rate_rule``, then sent."""
    suspension.ensure_may_redact(requester, room_id, event_id)
    ratelimit.charge("send", requester, rate_rule)
    return send_event(requester.user_id, room_id, "m.room.redaction", content,
                      redacts=event_id, txn=txn)


def send_event(sender: str, room_id: str, event_type: str, content: dict, *,
               state_key: str | None = None, redacts: str | None = None,
               txn: TxnKey | None = None, dedupe: bool = False) -> Sent:
    """Append one event sent by ``sender`` (a message event, or a state event when
    ``state_key`` is given). With ``txn``, a retry answers the first event instead; with
    ``dedupe``, see ``RoomAppender.append``."""
    with write_transaction():
        appender, first = RoomAppender.lock_to_send(room_id, sender, txn,
                                                    changes_membership=event_type == MEMBER)
        if first is not None:
            return Sent(first["event_id"], None)
        sent = appender.append(sender, event_type, content, state_key, redacts=redacts,
                               txn=txn, dedupe=dedupe, last=not dedupe)
        if txn is not None and sent.stream_ordering is None:
            txn_ids.record(txn, {"event_id": sent.event_id})  # deduplicated: nothing appended
    return sent


def send_state_event(sender: str, room_id: str, event_type: str, state_key: str,
                     content: dict) -> Sent:
    """Set a piece of room state as user ``sender`` (same rules as a client's PUT /state;
    membership goes through ``services.writing.membership.set_member_state`` instead). Identical
    state from the same sender answers the current event's ID and stores nothing."""
    return send_event(sender, room_id, event_type, content, state_key=state_key, dedupe=True)
