"""Account deactivation (POST /account/deactivate): for good, unlike locking or suspension.

``deactivate_account`` (in one write transaction, with the UIA session it spends):
- the account is marked deactivated (no login, no token, no refresh), its password and
  profile (display name, avatar, custom fields) are cleared;
- every device goes through ``devices.delete_devices`` (tokens, device keys, one-time and
  fallback keys, pending to-device messages, device-list change);
- its cross-signing keys and the signatures made by or for them are deleted and the
  device-list change is announced while the user still shares rooms with their contacts, so
  their clients drop the keys;
- pushers, OpenID tokens, key backups, UIA sessions and presence go;
- with ``erase``, ``services.erasure`` records the erasure and deletes account data.

``leave_all_rooms`` then leaves every joined room, rejects every invite and retracts every
knock through ``services.membership`` (one room lock at a time, after the deactivation
committed: a crash in between leaves memberships behind but never half a deactivation).
"""

from __future__ import annotations

from .. import errors
from ..db import write_transaction
from ..models.keys import CrossSigningKey, KeySignature, RoomKeysVersion
from ..models.openid import OpenIdToken
from ..models.presence import Presence
from ..models.profile import ProfileField
from ..models.push import Pusher
from ..models.users import UiaSession, User
from . import device_lists, devices, erasure, key_backup, membership
from . import state as room_state


def deactivate_account(user_id: str, *, erase: bool = False) -> None:
    with write_transaction():
        (User.update(deactivated=True, password_hash=None, displayname=None, avatar_url=None)
         .where(User.user_id == user_id).execute())
        ProfileField.delete().where(ProfileField.user == user_id).execute()
        devices.delete_devices(user_id, None)
        _delete_cross_signing_keys(user_id)
        Pusher.delete().where(Pusher.user_id == user_id).execute()
        OpenIdToken.delete().where(OpenIdToken.user_id == user_id).execute()
        UiaSession.delete().where(UiaSession.user_id == user_id).execute()
        Presence.delete().where(Presence.user_id == user_id).execute()
        live_backups = (RoomKeysVersion.select(RoomKeysVersion.id)
                        .where((RoomKeysVersion.user_id == user_id)
                               & (RoomKeysVersion.deleted == False))  # noqa: E712
                        .tuples())
        for (version_id,) in list(live_backups):
            key_backup.delete_version(user_id, str(version_id))
        if erase:
            erasure.erase(user_id)


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


def leave_all_rooms(user_id: str) -> list[str]:
    """Leave joined rooms, reject invites, retract knocks; returns the rooms left."""
    left = []
    for room_id in sorted(room_state.rooms_of_user(user_id, ("join", "invite", "knock"))):
        try:
            membership.leave(user_id, room_id)
        except errors.MatrixError:
            continue  # e.g. the room's state changed meanwhile: nothing more to leave there
        left.append(room_id)
    return left
