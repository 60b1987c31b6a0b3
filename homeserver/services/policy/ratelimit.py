"""Rate limits as token buckets kept in the database, so every worker sees the same counts.

A rule is ``{"per_second": float, "burst": int}`` (see ``rate_limits.*`` in the configuration):
a bucket holds at most ``burst`` units and drains at ``per_second``. ``check`` adds one unit and
refuses with M_LIMIT_EXCEEDED when the bucket would overflow. A rule of None means "no limit"
(``rule()`` answers None for every name when ``rate_limits.enabled`` is false).

A client's action is counted by the service entry point that does it, through ``charge``
(the rule passed in by the caller, from the configuration); limits keyed by a client address
(registration, login) call ``check`` with the address.
"""

from __future__ import annotations

import math
import secrets

import peewee

from ... import clock, db, errors
from ...models.users import RateLimitBucket
from ..server import metrics
from .requester import Requester

# One request in this many also deletes buckets that have drained (they are empty anyway).
_CLEANUP_ONE_IN = 200


def rule(rate_limits: dict, name: str) -> dict | None:
    """The configured rule ``name``, or None when rate limiting is switched off."""
    if not rate_limits.get("enabled", True):
        return None
    return rate_limits[name]


def check(key_kind: str, key: str, rule: dict | None) -> None:
    """Count one request against ``key_kind:key``; M_LIMIT_EXCEEDED if the bucket is full."""
    _take(key_kind, key, rule, consume=True, enforce=True)


def charge(key_kind: str, requester: Requester, rule: dict | None) -> None:
    """Count one action of ``requester`` under ``rule`` (M_LIMIT_EXCEEDED when full): the one
    rate-limit check of a client's actions, made by the service entry points. A request
    replaying a transaction ID is answered before this (it costs nothing)."""
    check(key_kind, requester.user_id, rule if requester.rate_limited else None)


def ensure_room(key_kind: str, key: str, rule: dict | None) -> None:
    """Refuse like ``check`` when the bucket is full, without counting this request.

    For limits on failures: look before the attempt, ``record`` only when it failed.
    """
    _take(key_kind, key, rule, consume=False, enforce=True)


def record(key_kind: str, key: str, rule: dict | None) -> None:
    """Count one unit without refusing (the attempt already happened, e.g. a failed login)."""
    _take(key_kind, key, rule, consume=True, enforce=False)


def _level(bucket: RateLimitBucket, now: int, rate: float) -> float:
    elapsed_s = max(0, now - bucket.updated_ts) / 1000.0
    return max(0.0, bucket.level - elapsed_s * rate)


def _refuse_if_full(level: float, burst: float, rate: float, key_kind: str) -> None:
    if level + 1 > burst:
        metrics.rate_limited(key_kind)
        raise errors.LimitExceeded(math.ceil((level + 1 - burst) / rate * 1000))


def _take(key_kind: str, key: str, rule: dict | None, *, consume: bool, enforce: bool) -> None:
    if rule is None or key is None:
        return
    rate = float(rule["per_second"])
    burst = float(rule["burst"])
    bucket_key = f"{key_kind}:{key}"[:512]
    now = clock.now_ms()
    if not consume:
        # Only looking: no write, no lock.
        bucket = RateLimitBucket.get_or_none(RateLimitBucket.key == bucket_key)
        if bucket is not None:
            _refuse_if_full(_level(bucket, now, rate), burst, rate, key_kind)
        return
    with db.write_transaction():
        RateLimitBucket.insert(key=bucket_key, level=0.0, updated_ts=now,
                               drained_ts=now).on_conflict_ignore().execute()
        query = RateLimitBucket.select().where(RateLimitBucket.key == bucket_key)
        if not isinstance(db.database.obj, peewee.SqliteDatabase):
            query = query.for_update()  # SQLite's BEGIN IMMEDIATE already serializes writers
        bucket = query.get()
        level = _level(bucket, now, rate)
        if enforce:
            _refuse_if_full(level, burst, rate, key_kind)
        level += 1
        (RateLimitBucket
         .update(level=level, updated_ts=now, drained_ts=now + math.ceil(level / rate * 1000))
         .where(RateLimitBucket.key == bucket_key)
         .execute())
        if secrets.randbelow(_CLEANUP_ONE_IN) == 0:
            RateLimitBucket.delete().where(RateLimitBucket.drained_ts < now).execute()
