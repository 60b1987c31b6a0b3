"""Transaction IDs (``PUT .../{txnId}``): a retried request answers its first result.

A record is scoped to (user, device, endpoint, txnId), as the spec asks. It lives
``requests.txn_id_lifetime_ms`` (a day by default): a client retries within seconds or minutes,
and a record that outlived that would make a txnId reused much later (clients count from 0 after
a reinstall) silently answer an old result. Records go with their device (``delete_for_device``,
called by ``devices.delete_devices``), so a re-created device ID starts afresh. Expired records
are ignored by lookups, replaced when their txnId is used again, and deleted for every device
by ``expire_due`` (the ephemeral sweep, at most every ``SWEEP_EVERY_MS``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import peewee

from ... import clock, db, errors
from ...db import StatementBatch
from ...models.rooms import EventTransaction
from ..rooms import event_store

# The txn_id column's size (characters); longer IDs are refused before anything is written.
MAX_TXN_ID_LENGTH = 255
SWEEP_EVERY_MS = 10 * 60 * 1000

_lifetime_ms = 24 * 3600 * 1000
_last_sweep_ms = 0


def configure(section: dict) -> None:
    """The ``requests`` configuration section (called when the app is built)."""
    global _lifetime_ms
    _lifetime_ms = section["txn_id_lifetime_ms"]


@dataclass(frozen=True)
class TxnKey:
    """A request's idempotency key: the spec scopes a txnId to one device and one path."""

    user_id: str
    device_id: str
    endpoint: str
    txn_id: str

    def __post_init__(self):
        check(self.txn_id)


def check(txn_id: str) -> None:
    if not txn_id or len(txn_id) > MAX_TXN_ID_LENGTH:
        raise errors.InvalidParam(f"A txnId must be 1 to {MAX_TXN_ID_LENGTH} characters long")


def _cutoff() -> int:
    return clock.now_ms() - _lifetime_ms


def previous_result(txn: TxnKey) -> dict | None:
    """The result recorded for ``txn`` within its lifetime, or None."""
    return result_of(event_store.txn_result(*lookup(txn)))


def lookup(txn: TxnKey) -> tuple[str, str, str, str, int]:
    """``event_store.txn_result``'s arguments for ``txn`` (the oldest record still valid), for
    a caller that reads the result together with other things; ``result_of`` decodes it."""
    return txn.user_id, txn.device_id, txn.endpoint, txn.txn_id, _cutoff()


def result_of(text: str | None) -> dict | None:
    return json.loads(text) if text is not None else None


def record(txn: TxnKey, result: dict, batch: StatementBatch | None = None) -> None:
    """Record ``txn``'s result (inside the request's write transaction; with ``batch``, when
    the caller runs it). An expired record of the same txnId is replaced, so that an expired
    txnId can be used again; the device's other expired records go with the sweep."""
    event_store.record_txn(txn.user_id, txn.device_id, txn.endpoint, txn.txn_id,
                           json.dumps(result), clock.now_ms(), batch)


def delete_for_device(user_id: str, device_id: str) -> None:
    """Forget a deleted device's txnIds (inside the transaction that deletes it)."""
    (EventTransaction.delete()
     .where((EventTransaction.user_id == user_id) & (EventTransaction.device_id == device_id))
     .execute())


def expire_due() -> int:
    """``delete_expired()``, unless this process swept less than ``SWEEP_EVERY_MS`` ago."""
    global _last_sweep_ms
    now = clock.now_ms()
    if 0 <= now - _last_sweep_ms < SWEEP_EVERY_MS:
        return 0
    _last_sweep_ms = now
    return delete_expired()


def delete_expired(limit: int | None = None) -> int:
    """Delete expired records of every device (the oldest ``limit`` of them, or all)."""
    expired = EventTransaction.created_ts < _cutoff()
    if limit is not None:
        T = EventTransaction
        oldest = (T.select(T.user_id, T.device_id, T.endpoint, T.txn_id).where(expired)
                  .order_by(T.created_ts).limit(limit))
        expired = peewee.Tuple(T.user_id, T.device_id, T.endpoint, T.txn_id).in_(oldest)
    with db.write_transaction():
        return EventTransaction.delete().where(expired).execute()
