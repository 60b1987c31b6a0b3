"""Server-side key backups (spec: End-to-End Encryption, Server-side key backups).

A user has backup versions; the newest one not deleted is the current one, and keys can only
be written to it (M_WRONG_ROOM_KEYS_VERSION names the current version otherwise). A backup of
an algorithm this server does not know is stored opaquely (auth_data as given), as Synapse
does. When a key
for a session is already stored, the copy that is verified wins, then the one with the lower
``first_message_index``, then the one with the lower ``forwarded_count``; on a tie the stored
copy stays. The etag changes whenever the stored keys change.
"""

from __future__ import annotations

import json

import peewee

from ... import errors
from ...db import database, now_ms, write_transaction
from ...identifiers import MAX_ID_LENGTH, is_ascii_number
from ...models.keys import BackedUpRoomKey, RoomKeysVersion
from .. import canonical

ALGORITHM = "m.megolm_backup.v1.curve25519-aes-sha2"


class WrongVersion(errors.WrongRoomKeysVersion):
    def __init__(self, current: str):
        super().__init__("Wrong backup version", current_version=current)


def _current(user_id: str) -> RoomKeysVersion | None:
    return (RoomKeysVersion.select()
            .where((RoomKeysVersion.user_id == user_id)
                   & (RoomKeysVersion.deleted == False))  # noqa: E712
            .order_by(RoomKeysVersion.id.desc()).first())


def _version_id(version: str) -> int | None:
    return int(version) if is_ascii_number(version, 17) else None


def _existing(user_id: str, version: str, *, deleted: bool = False) -> RoomKeysVersion | None:
    number = _version_id(version)
    if number is None:
        return None
    row = RoomKeysVersion.get_or_none((RoomKeysVersion.id == number)
                                      & (RoomKeysVersion.user_id == user_id))
    if row is None or (row.deleted and not deleted):
        return None
    return row


def _not_found(version: str | None = None) -> errors.NotFound:
    return errors.NotFound(f"Unknown backup version {version}" if version
                           else "No current backup version")


def _count(version: RoomKeysVersion) -> int:
    return BackedUpRoomKey.select().where(BackedUpRoomKey.version == version.id).count()


def _info(version: RoomKeysVersion) -> dict:
    return {"algorithm": version.algorithm, "auth_data": json.loads(version.auth_data),
            "count": _count(version), "etag": str(version.etag), "version": str(version.id)}


# --- versions -----------------------------------------------------------------------------------

def _check_auth_data(algorithm: str, auth_data) -> None:
    """The known algorithm's auth_data is a signed object, so it must be canonical JSON; any
    other algorithm's is stored as given (clients decide what they trust)."""
    if algorithm == ALGORITHM:
        if not isinstance(auth_data, dict):
            raise errors.BadJson("auth_data must be an object for " + ALGORITHM)
        canonical.check_canonical(auth_data, where="auth_data")


def create_version(user_id: str, algorithm: str, auth_data) -> dict:
    _check_auth_data(algorithm, auth_data)
    with write_transaction():
        row = RoomKeysVersion.create(user_id=user_id, algorithm=algorithm,
                                     auth_data=json.dumps(auth_data), created_ts=now_ms())
    return {"version": str(row.id)}


def get_version(user_id: str, version: str | None) -> dict:
    row = _current(user_id) if version is None else _existing(user_id, version)
    if row is None:
        raise _not_found(version)
    return _info(row)


def update_version(user_id: str, version: str, algorithm: str, auth_data,
                   body_version: str | None) -> None:
    if body_version is not None and body_version != version:
        raise errors.InvalidParam("The version in the body does not match the path")
    _check_auth_data(algorithm, auth_data)
    with write_transaction():
        row = _existing(user_id, version)
        if row is None:
            raise _not_found(version)
        if algorithm != row.algorithm:
            raise errors.InvalidParam("The algorithm does not match the backup's algorithm")
        (RoomKeysVersion.update(auth_data=json.dumps(auth_data))
         .where(RoomKeysVersion.id == row.id).execute())


def delete_version(user_id: str, version: str) -> None:
    """Delete a backup and its keys; deleting an already deleted backup succeeds."""
    with write_transaction():
        row = _existing(user_id, version, deleted=True)
        if row is None:
            raise _not_found(version)
        if not row.deleted:
            BackedUpRoomKey.delete().where(BackedUpRoomKey.version == row.id).execute()
            RoomKeysVersion.update(deleted=True).where(RoomKeysVersion.id == row.id).execute()


# --- keys ---------------------------------------------------------------------------------------

def _writable(user_id: str, version: str) -> RoomKeysVersion:
    current = _current(user_id)
    if current is None:
        raise _not_found(version)
    if str(current.id) != version:
        raise WrongVersion(str(current.id))
    # Serialise writers of one backup (PostgreSQL row lock; SQLite's write lock already does).
    if not isinstance(database.obj, peewee.SqliteDatabase):
        list(RoomKeysVersion.select(RoomKeysVersion.id)
             .where(RoomKeysVersion.id == current.id).for_update())
    return current


def _readable(user_id: str, version: str) -> RoomKeysVersion:
    row = _existing(user_id, version)
    if row is None:
        raise _not_found(version)
    return row


def _replaces(new: dict, old: BackedUpRoomKey) -> bool:
    if new["is_verified"] != old.is_verified:
        return new["is_verified"]
    if new["first_message_index"] != old.first_message_index:
        return new["first_message_index"] < old.first_message_index
    return new["forwarded_count"] < old.forwarded_count


def put_keys(user_id: str, version: str, rooms: dict[str, dict[str, dict]]) -> dict:
    """Store ``{room_id: {session_id: key_data}}`` in the current backup; etag and count."""
    for room_id, sessions in rooms.items():
        if len(room_id) > MAX_ID_LENGTH or any(len(s) > MAX_ID_LENGTH for s in sessions):
            raise errors.InvalidParam(
                f"Room and session IDs are at most {MAX_ID_LENGTH} characters long")
        for data in sessions.values():
            canonical.check_canonical(data["session_data"], where="session_data")
    with write_transaction():
        row = _writable(user_id, version)
        if row.algorithm == ALGORITHM:
            # The known algorithm's session_data is an object; another's is stored as given.
            for sessions in rooms.values():
                if any(not isinstance(data["session_data"], dict) for data in sessions.values()):
                    raise errors.BadJson("session_data must be an object for " + ALGORITHM)
        changed = False
        for room_id, sessions in rooms.items():
            if not sessions:
                continue
            stored = {key.session_id: key for key in BackedUpRoomKey.select().where(
                (BackedUpRoomKey.version == row.id) & (BackedUpRoomKey.room_id == room_id)
                & BackedUpRoomKey.session_id.in_(list(sessions)))}
            for session_id, data in sessions.items():
                old = stored.get(session_id)
                if old is not None and not _replaces(data, old):
                    continue
                values = {"first_message_index": data["first_message_index"],
                          "forwarded_count": data["forwarded_count"],
                          "is_verified": data["is_verified"],
                          "session_data": json.dumps(data["session_data"])}
                if old is None:
                    BackedUpRoomKey.insert(version=row.id, room_id=room_id,
                                           session_id=session_id, **values).execute()
                else:
                    (BackedUpRoomKey.update(**values)
                     .where((BackedUpRoomKey.version == row.id)
                            & (BackedUpRoomKey.room_id == room_id)
                            & (BackedUpRoomKey.session_id == session_id)).execute())
                changed = True
        if changed:
            row.etag = _bump_etag(row)
        return {"etag": str(row.etag), "count": _count(row)}


def _bump_etag(row: RoomKeysVersion) -> int:
    RoomKeysVersion.update(etag=RoomKeysVersion.etag + 1).where(
        RoomKeysVersion.id == row.id).execute()
    return RoomKeysVersion.get_by_id(row.id).etag


def _key_dict(key: BackedUpRoomKey) -> dict:
    return {"first_message_index": key.first_message_index,
            "forwarded_count": key.forwarded_count, "is_verified": key.is_verified,
            "session_data": json.loads(key.session_data)}


def _select(row: RoomKeysVersion, room_id: str | None, session_id: str | None):
    query = BackedUpRoomKey.select().where(BackedUpRoomKey.version == row.id)
    if room_id is not None:
        query = query.where(BackedUpRoomKey.room_id == room_id)
    if session_id is not None:
        query = query.where(BackedUpRoomKey.session_id == session_id)
    return query


def get_keys(user_id: str, version: str, room_id: str | None = None,
             session_id: str | None = None) -> dict:
    row = _readable(user_id, version)
    keys = list(_select(row, room_id, session_id).order_by(BackedUpRoomKey.room_id,
                                                           BackedUpRoomKey.session_id))
    if session_id is not None:
        if not keys:
            raise errors.NotFound("Key not found")
        return _key_dict(keys[0])
    if room_id is not None:
        return {"sessions": {key.session_id: _key_dict(key) for key in keys}}
    rooms: dict[str, dict] = {}
    for key in keys:
        rooms.setdefault(key.room_id, {"sessions": {}})["sessions"][key.session_id] = \
            _key_dict(key)
    return {"rooms": rooms}


def delete_keys(user_id: str, version: str, room_id: str | None = None,
                session_id: str | None = None) -> dict:
    with write_transaction():
        row = _readable(user_id, version)
        query = BackedUpRoomKey.delete().where(BackedUpRoomKey.version == row.id)
        if room_id is not None:
            query = query.where(BackedUpRoomKey.room_id == room_id)
        if session_id is not None:
            query = query.where(BackedUpRoomKey.session_id == session_id)
        if query.execute():
            row.etag = _bump_etag(row)
        return {"etag": str(row.etag), "count": _count(row)}
