"""POST /keys/upload: a device publishes its identity keys, one-time keys and fallback keys.

Device keys are checked for shape and for naming the uploading user and device; their
signatures are the clients' to verify (as on the reference servers).
"""

from __future__ import annotations

import peewee

from .... import clock, errors
from ....db import run_sql, write_transaction
from ....models.keys import DeviceKeys, FallbackKey, OneTimeKey
from ... import canonical
from ...user_lock import lock_user
from .. import device_lists
from . import signing

# Clients look for this algorithm's count; it is always reported, zero included.
SIGNED_CURVE25519 = "signed_curve25519"


DEFAULT_MAX_ONE_TIME_KEYS = 5000


def upload_keys(user_id: str, device_id: str, device_keys: dict | None, one_time_keys: dict | None,
                fallback_keys: dict | None, *,
                max_one_time_keys: int = DEFAULT_MAX_ONE_TIME_KEYS) -> dict:
    """Store what the device uploaded; answers its unclaimed one-time key counts."""
    device_json = _checked_device_keys(user_id, device_id, device_keys) if device_keys else None
    otks = _split_key_ids(one_time_keys or {}, "one_time_keys")
    fallbacks = _split_key_ids(fallback_keys or {}, "fallback_keys")
    if len({algorithm for algorithm, _, _ in fallbacks}) != len(fallbacks):
        raise errors.InvalidParam("At most one fallback key per algorithm may be uploaded")

    for attempt in (1, 2):
        try:
            with write_transaction():
                if otks:
                    # Concurrent uploads of one device must not each count, see room, and
                    # insert past the cap (PostgreSQL READ COMMITTED).
                    lock_user(user_id)
                if device_json is not None:
                    _store_device_keys(user_id, device_id, device_json)
                if otks:
                    _store_one_time_keys(user_id, device_id, otks, max_one_time_keys)
                for algorithm, key_id, key_json in fallbacks:
                    _store_fallback_key(user_id, device_id, algorithm, key_id, key_json)
            break
        except peewee.IntegrityError:
            # The same upload running twice at once (a retry): the second pass sees the first.
            if attempt == 2:
                raise
    return {"one_time_key_counts": key_counts(user_id, device_id)[0]}


# Both sent on every /sync (the answer of a timed-out long-poll included): one fixed statement
# (db.run_sql), so one round trip on PostgreSQL. Rows: (0, algorithm, unclaimed one-time keys)
# and (1, algorithm, 0) per unused fallback key.
_KEY_COUNTS = (f"SELECT 0, algorithm, COUNT(id) FROM {OneTimeKey._meta.table_name} "
               "WHERE user_id = ? AND device_id = ? AND claimed = ? GROUP BY algorithm "
               f"UNION ALL SELECT 1, algorithm, 0 FROM {FallbackKey._meta.table_name} "
               "WHERE user_id = ? AND device_id = ? AND used = ? ORDER BY 1, 2")


def key_counts(user_id: str, device_id: str) -> tuple[dict[str, int], list[str]]:
    """The device's unclaimed one-time keys by algorithm (SIGNED_CURVE25519 always there), and
    the algorithms of its unused fallback keys (sorted)."""
    rows = run_sql(_KEY_COUNTS, (user_id, device_id, False, user_id, device_id, False)).fetchall()
    counts = {SIGNED_CURVE25519: 0}
    counts.update({algorithm: n for kind, algorithm, n in rows if kind == 0})
    return counts, [algorithm for kind, algorithm, _ in rows if kind == 1]


# The sizes of the algorithm and key_id columns of one-time and fallback keys.
MAX_ALGORITHM_LENGTH = 128
MAX_KEY_ID_LENGTH = 255


def _encode(value) -> str:
    return canonical.encode(value).decode("utf-8")


def _checked_device_keys(user_id: str, device_id: str, keys: dict) -> str:
    if keys.get("user_id") != user_id or keys.get("device_id") != device_id:
        raise errors.InvalidParam(
            "device_keys.user_id and device_keys.device_id must be those of the access token")
    algorithms, key_map = keys.get("algorithms"), keys.get("keys")
    if not isinstance(algorithms, list) or not all(isinstance(a, str) for a in algorithms):
        raise errors.BadJson("device_keys.algorithms must be a list of strings")
    if not isinstance(key_map, dict) or not all(isinstance(v, str) for v in key_map.values()):
        raise errors.BadJson("device_keys.keys must map key IDs to strings")
    if not signing.is_signatures_map(keys.get("signatures")):
        # Others' clients read these keys: a malformed map would break their /keys/query.
        raise errors.BadJson("device_keys.signatures must map user IDs to objects of key IDs "
                             "to signatures")
    canonical.check_canonical(keys, where="device_keys")
    # The self-signature is not checked: the spec defines no such error for /keys/upload,
    # clients verify device signatures themselves, and the reference servers store such keys
    # (cross-signing signatures, which the spec does have the server check, are checked in
    # cross_signing.py).
    return _encode({k: v for k, v in keys.items() if k != "unsigned"})


def _split_key_ids(keys: dict, where: str) -> list[tuple[str, str, str]]:
    """[(algorithm, key_id, canonical JSON)] of a map ``{"<algorithm>:<key_id>": key}``."""
    out = []
    for full_id, key in keys.items():
        algorithm, sep, key_id = full_id.partition(":")
        if not sep or not algorithm or not key_id:
            raise errors.BadJson(f"{where}: key IDs must look like <algorithm>:<key_id>")
        if len(algorithm) > MAX_ALGORITHM_LENGTH or len(key_id) > MAX_KEY_ID_LENGTH:
            raise errors.BadJson(f"{where}: an algorithm is at most {MAX_ALGORITHM_LENGTH} "
                                 f"characters, a key ID at most {MAX_KEY_ID_LENGTH}")
        if isinstance(key, dict):
            if not isinstance(key.get("key"), str) or not isinstance(key.get("signatures"), dict):
                raise errors.BadJson(f"{where}.{full_id} must have a key and signatures")
        elif not isinstance(key, str):
            raise errors.BadJson(f"{where}.{full_id} must be a string or a key object")
        canonical.check_canonical(key, where=where)
        out.append((algorithm, key_id, _encode(key)))
    return out


def _store_device_keys(user_id: str, device_id: str, key_json: str) -> None:
    existing = DeviceKeys.get_or_none((DeviceKeys.user_id == user_id)
                                      & (DeviceKeys.device_id == device_id))
    if existing is not None and existing.key_json == key_json:
        return
    (DeviceKeys.insert(user_id=user_id, device_id=device_id, key_json=key_json,
                       updated_ts=clock.now_ms())
     .on_conflict(conflict_target=[DeviceKeys.user_id, DeviceKeys.device_id],
                  update={DeviceKeys.key_json: key_json, DeviceKeys.updated_ts: clock.now_ms()})
     .execute())
    device_lists.mark_changed(user_id)


def _store_one_time_keys(user_id: str, device_id: str, keys: list[tuple[str, str, str]],
                         limit: int) -> None:
    wanted = {(algorithm, key_id): key_json for algorithm, key_id, key_json in keys}
    existing = {}
    key_ids = list({key_id for _, key_id in wanted})
    for start in range(0, len(key_ids), 500):
        rows = (OneTimeKey.select(OneTimeKey.algorithm, OneTimeKey.key_id, OneTimeKey.key_json)
                .where((OneTimeKey.user_id == user_id) & (OneTimeKey.device_id == device_id)
                       & (OneTimeKey.key_id.in_(key_ids[start:start + 500]))).tuples())
        existing.update({(algorithm, key_id): key_json for algorithm, key_id, key_json in rows})
    new_rows = []
    now = clock.now_ms()
    for (algorithm, key_id), key_json in wanted.items():
        old = existing.get((algorithm, key_id))
        if old is None:
            new_rows.append({"user_id": user_id, "device_id": device_id, "algorithm": algorithm,
                             "key_id": key_id, "key_json": key_json, "created_ts": now})
        elif old != key_json:
            raise errors.InvalidParam(
                f"One-time key {algorithm}:{key_id} was already uploaded with other content")
    if new_rows:
        unclaimed = (OneTimeKey.select().where(
            (OneTimeKey.user_id == user_id) & (OneTimeKey.device_id == device_id)
            & (OneTimeKey.claimed == False)).count())  # noqa: E712 (peewee expression)
        if unclaimed + len(new_rows) > limit:
            raise errors.InvalidParam(
                f"A device may hold at most {limit} unclaimed one-time keys "
                f"({unclaimed} held, {len(new_rows)} uploaded)")
    for start in range(0, len(new_rows), 200):
        OneTimeKey.insert_many(new_rows[start:start + 200]).execute()


def _store_fallback_key(user_id: str, device_id: str, algorithm: str, key_id: str,
                        key_json: str) -> None:
    where = ((FallbackKey.user_id == user_id) & (FallbackKey.device_id == device_id)
             & (FallbackKey.algorithm == algorithm))
    existing = FallbackKey.get_or_none(where)
    if existing is not None and existing.key_id == key_id and existing.key_json == key_json:
        return  # the same key again: it stays used if it was
    if existing is not None:
        FallbackKey.update(key_id=key_id, key_json=key_json, used=False).where(where).execute()
    else:
        FallbackKey.insert(user_id=user_id, device_id=device_id, algorithm=algorithm,
                           key_id=key_id, key_json=key_json, used=False).execute()
