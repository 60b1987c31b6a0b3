"""POST /keys/claim: one key per requested device, a one-time key handed out at most once.

A key is taken by flipping its ``claimed`` flag with ``WHERE claimed = false``: only one
transaction can change the row, and on PostgreSQL a concurrent claimer blocks on the row and
then sees it already taken (the update touches no row) and moves on to the next key. On SQLite
the write transaction holds the database's single write lock for the whole claim.
When a device has no one-time key left, its fallback key is given out (again and again) and
marked used so the device learns, through /sync, to replace it.
"""

from __future__ import annotations

import json

from ....db import write_transaction
from ....identifiers import server_of
from ....models.keys import FallbackKey, OneTimeKey
from .query import remote_failures


def claim_keys(wanted: dict[str, dict[str, str]], server_name: str) -> dict:
    claimed: dict[str, dict] = {}
    with write_transaction():
        for user_id, devices in wanted.items():
            if server_of(user_id) != server_name:
                continue
            for device_id, algorithm in devices.items():
                found = _claim_one(user_id, device_id, algorithm)
                if found is not None:
                    key_id, key = found
                    claimed.setdefault(user_id, {})[device_id] = {f"{algorithm}:{key_id}": key}
    return {"one_time_keys": claimed, "failures": remote_failures(wanted, server_name)}


def _claim_one(user_id: str, device_id: str, algorithm: str):
    base = ((OneTimeKey.user_id == user_id) & (OneTimeKey.device_id == device_id)
            & (OneTimeKey.algorithm == algorithm))
    while True:
        row = (OneTimeKey.select(OneTimeKey.id, OneTimeKey.key_id, OneTimeKey.key_json)
               .where(base & (OneTimeKey.claimed == False))  # noqa: E712
               .order_by(OneTimeKey.id).first())
        if row is None:
            break
        taken = (OneTimeKey.update(claimed=True)
                 .where((OneTimeKey.id == row.id) & (OneTimeKey.claimed == False))  # noqa: E712
                 .execute())
        if taken == 1:
            return row.key_id, json.loads(row.key_json)
    where = ((FallbackKey.user_id == user_id) & (FallbackKey.device_id == device_id)
             & (FallbackKey.algorithm == algorithm))
    fallback = FallbackKey.get_or_none(where)
    if fallback is None:
        return None
    if not fallback.used:
        FallbackKey.update(used=True).where(where).execute()
    return fallback.key_id, json.loads(fallback.key_json)
