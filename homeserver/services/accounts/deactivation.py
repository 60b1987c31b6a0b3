"""Account deactivation (POST /account/deactivate): for good, unlike locking or suspension.

``deactivate_account`` (in one write transaction, with the UIA session it spends):
- the account is marked deactivated (no login, no token, no refresh), its password and
  profile (display name, avatar, custom fields) are cleared;
- every device goes through ``devices.delete_devices`` (tokens, device keys, one-time and
  fallback keys, pending to-device messages, device-list change);
- its cross-signing keys and the signatures made by or for them are deleted and the
  device-list change is announced while the user still shares rooms with their contacts, so
  their clients drop the keys;
- pushers, OpenID tokens, email addresses (and the records of identity-server bindings,
  unbound before by ``unbind_threepids``), key backups, UIA sessions and presence go;
- every room the account is joined to, invited to or knocking on is recorded as a
  ``PendingLeave`` row;
- with ``erase``, ``services.accounts.erasure`` records the erasure and deletes account data and the
  media the account uploaded (the files go after the commit, ``remove_erased_media``).

The leaves themselves go through ``services.writing.membership`` (one room lock at a time) after the
deactivation committed: ``leave_pending`` runs right after it, and a room it could not leave
(an error, a crash, a restart) keeps its row, retried with backoff by a per-process sweep
(``ensure_sweep``, services/background.py; also started by a process's first request when
rows exist) until the
membership is "leave". The sweep thread ends when no row is left.
"""

from __future__ import annotations

import logging
import threading

from ... import clock
from ...db import write_transaction
from ...models.deactivation import PendingLeave
from ...models.keys import CrossSigningKey, KeySignature, RoomKeysVersion
from ...models.openid import OpenIdToken
from ...models.presence import Presence
from ...models.profile import ProfileField
from ...models.push import Pusher
from ...models.users import UiaSession, User
from .. import background
from ..e2ee import device_lists, key_backup
from ..identity import bindings
from ..media import admin as media_admin
from ..media.storage import MediaStore
from ..rooms import state as room_state
from ..userdata import threepids
from ..writing import membership
from . import devices, erasure

logger = logging.getLogger(__name__)

LEAVING = ("join", "invite", "knock")
CLAIM_MS = 60_000
FIRST_RETRY_MS = 1_000
MAX_RETRY_MS = 10 * 60 * 1000
SWEEP_INTERVAL_S = 5.0
SWEEP_BATCH = 100


def unbind_threepids(user_id: str, id_server: str | None = None) -> dict:
    """Before deactivating: the 3PIDs bound through this server are unbound from ``id_server``
    or the identity servers they were bound at (spec: POST /account/deactivate,
    ``id_server_unbind_result``); the answer's body."""
    return {"id_server_unbind_result": bindings.unbind_all(user_id, id_server)}


def deactivate_account(user_id: str, *, erase: bool = False) -> list[str]:
    """Deactivate (in the caller's transaction, or one of its own). Returns the SHA-256 of
    content an erasure may have left unreferenced (for ``remove_erased_media``)."""
    orphaned: list[str] = []
    with write_transaction():
        (User.update(deactivated=True, password_hash=None, displayname=None, avatar_url=None)
         .where(User.user_id == user_id).execute())
        ProfileField.delete().where(ProfileField.user == user_id).execute()
        devices.delete_devices(user_id, None)
        _delete_cross_signing_keys(user_id)
        Pusher.delete().where(Pusher.user_id == user_id).execute()
        OpenIdToken.delete().where(OpenIdToken.user_id == user_id).execute()
        threepids.delete_all(user_id)  # its addresses may register or be added again
        bindings.forget_all(user_id)  # unbound before (unbind_threepids) as far as possible
        UiaSession.delete().where(UiaSession.user_id == user_id).execute()
        Presence.delete().where(Presence.user_id == user_id).execute()
        live_backups = (RoomKeysVersion.select(RoomKeysVersion.id)
                        .where((RoomKeysVersion.user_id == user_id)
                               & (RoomKeysVersion.deleted == False))  # noqa: E712
                        .tuples())
        for (version_id,) in list(live_backups):
            key_backup.delete_version(user_id, str(version_id))
        now = clock.now_ms()
        rows = [{"user_id": user_id, "room_id": room_id, "next_attempt_ts": now,
                 "created_ts": now}
                for room_id in sorted(room_state.rooms_of_user(user_id, LEAVING))]
        for start in range(0, len(rows), 200):
            PendingLeave.insert_many(rows[start:start + 200]).on_conflict_ignore().execute()
        if erase:
            orphaned = erasure.erase(user_id)
    return orphaned


def after_commit(user_id: str, orphaned: list[str], store: MediaStore | None) -> None:
    """Once the deactivation committed: remove an erasure's unreferenced files (a leftover
    after a crash is unreachable: no mxc URI names it), leave the rooms. Never raises: what
    fails here is retried by the sweep."""
    if orphaned and store is not None:
        try:
            media_admin.remove_unreferenced(store, set(orphaned))
        except Exception:  # noqa: BLE001 - the media items are gone; only files may be left
            logger.exception("removing the files of %s's erased media failed", user_id)
    try:
        leave_pending(user_id)
    except Exception:  # noqa: BLE001 - the rows stay and the sweep retries them
        logger.exception("leaving the rooms of deactivated %s failed", user_id)
    if PendingLeave.select().where(PendingLeave.user_id == user_id).exists():
        ensure_sweep()


def _delete_cross_signing_keys(user_id: str) -> None:
    publics = [key for (key,) in CrossSigningKey.select(CrossSigningKey.public_key)
               .where(CrossSigningKey.user_id == user_id).tuples()]
    if not publics:
        return
    CrossSigningKey.delete().where(CrossSigningKey.user_id == user_id).execute()
    # Signatures of the user's keys (by anyone) and by the user's keys (of anyone).
    KeySignature.delete().where(KeySignature.target_user_id == user_id).execute()
    KeySignature.delete().where(KeySignature.signer_user_id == user_id).execute()
    device_lists.mark_changed(user_id)


# --- leaving, durably ---------------------------------------------------------------------------

def leave_pending(user_id: str | None = None) -> list[str]:
    """Work through due PendingLeave rows (one user's, or anyone's): leave, reject or retract,
    and delete the row; a failure keeps the row for a retry. Returns the rooms done."""
    done = []
    while True:
        now = clock.now_ms()
        query = PendingLeave.select().where(PendingLeave.next_attempt_ts <= now)
        if user_id is not None:
            query = query.where(PendingLeave.user_id == user_id)
        # A row tried here is not due again (done, claimed or retried later): this ends.
        batch = list(query.order_by(PendingLeave.created_ts, PendingLeave.room_id)
                     .limit(SWEEP_BATCH))
        for row in batch:
            if _claim(row, now) and _leave_one(row):
                done.append(row.room_id)
        if len(batch) < SWEEP_BATCH:
            return done


def _key(row: PendingLeave):
    return (PendingLeave.user_id == row.user_id) & (PendingLeave.room_id == row.room_id)


def _claim(row: PendingLeave, now: int) -> bool:
    """Take the row for CLAIM_MS (another sweeper skips it meanwhile)."""
    with write_transaction():
        return PendingLeave.update(next_attempt_ts=now + CLAIM_MS).where(
            _key(row) & (PendingLeave.next_attempt_ts == row.next_attempt_ts)).execute() == 1


def _leave_one(row: PendingLeave) -> bool:
    try:
        membership.leave(row.user_id, row.room_id)
    except Exception:  # noqa: BLE001 - whatever failed, the row stays until the leave is done
        if row.room_id in room_state.rooms_of_user(row.user_id, LEAVING):
            logger.warning("deactivated %s could not leave %s yet; will retry", row.user_id,
                           row.room_id, exc_info=True)
            delay = min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** min(row.attempts, 20))
            retry_at = clock.now_ms() + delay
            with write_transaction():
                PendingLeave.update(attempts=row.attempts + 1,
                                    next_attempt_ts=retry_at).where(_key(row)).execute()
            ensure_sweep()
            return False
    with write_transaction():
        PendingLeave.delete().where(_key(row)).execute()
    return True


def start_sweep_if_work() -> None:
    """At a process's first request: sweep if leaves were left pending, e.g. by a crash or
    restart."""
    if PendingLeave.select().exists():
        ensure_sweep()


def ensure_sweep() -> None:
    _sweeper.ensure_running()


def _sweep(stop: threading.Event) -> None:
    def step() -> bool:
        leave_pending()
        return _sweeper.done_if(lambda: not PendingLeave.select().exists())

    background.run_every(stop, SWEEP_INTERVAL_S,
                         background.FailureLog(logger, "pending leaves sweep"), step)


_sweeper = background.Worker("pending-leaves", _sweep)
