"""Cross-signing: a user's master, self-signing and user-signing keys, and the signatures
clients add to device keys and master keys (POST /keys/device_signing/upload and
/keys/signatures/upload).

Every signature is checked before it is stored: a server that hands out unverifiable
signatures makes clients distrust good devices.
"""

from __future__ import annotations

import json

from .... import errors
from ....db import now_ms, write_transaction
from ....models.keys import CrossSigningKey, DeviceKeys, KeySignature
from ....models.users import Device
from ... import canonical
from .. import device_lists
from . import InvalidSignature, signing

KEY_TYPES = ("master", "self_signing", "user_signing")


# --- /keys/device_signing/upload ----------------------------------------------------------------

def _stored(user_id: str) -> dict[str, CrossSigningKey]:
    rows = CrossSigningKey.select().where(CrossSigningKey.user_id == user_id)
    return {row.key_type: row for row in rows}


def upload_requires_auth(user_id: str, keys: dict[str, dict | None]) -> bool:
    """The spec's rule: UIA is needed unless the user has no master key yet, or every key sent
    is exactly the one already stored (a retry of a lost response)."""
    stored = _stored(user_id)
    if "master" not in stored:
        return False
    for key_type, key in keys.items():
        if key is None:
            continue
        if key_type not in stored or stored[key_type].key_json != _encode(key):
            return True
    return False


def _encode(value) -> str:
    return canonical.encode(value).decode("utf-8")


# The public_key column's size (an Ed25519 key is 43 characters of unpadded base64).
MAX_PUBLIC_KEY_LENGTH = 255


def _public_key(user_id: str, key_type: str, key: dict) -> str:
    """The key's unpadded-base64 Ed25519 public key, after checking the object's shape."""
    canonical.check_canonical(key, where=f"{key_type}_key")
    if key.get("user_id") != user_id:
        raise errors.InvalidParam(f"{key_type}_key.user_id must be the requester's user ID")
    usage = key.get("usage")
    if not isinstance(usage, list) or key_type not in usage:
        raise errors.InvalidParam(f"{key_type}_key.usage must include {key_type!r}")
    key_map = key.get("keys")
    if not isinstance(key_map, dict) or len(key_map) != 1:
        raise errors.InvalidParam(f"{key_type}_key.keys must hold exactly one key")
    ((key_id, public),) = key_map.items()
    if not isinstance(public, str) or key_id != f"ed25519:{public}" \
            or len(public) > MAX_PUBLIC_KEY_LENGTH:
        raise errors.InvalidParam(f"{key_type}_key.keys must be {{'ed25519:<key>': '<key>'}}")
    if "signatures" in key and not isinstance(key["signatures"], dict):
        raise errors.BadJson(f"{key_type}_key.signatures must be an object")
    return public


def upload_cross_signing_keys(user_id: str, keys: dict[str, dict | None]) -> None:
    """Store the keys given (``{"master": obj or None, ...}``) after checking their signatures."""
    given = {key_type: key for key_type, key in keys.items() if key is not None}
    publics = {key_type: _public_key(user_id, key_type, key) for key_type, key in given.items()}
    with write_transaction():
        stored = _stored(user_id)
        master_public = publics.get("master") or (
            stored["master"].public_key if "master" in stored else None)
        for key_type in ("self_signing", "user_signing"):
            if key_type not in given:
                continue
            if master_public is None:
                raise errors.MissingParam("No master signing key is available")
            if not signing.verify(given[key_type], user_id, f"ed25519:{master_public}",
                                  master_public):
                raise InvalidSignature(
                    f"The {key_type} key must be signed by the master signing key")
        device_ids = set(publics.values()) & _device_ids(user_id)
        if device_ids:
            raise errors.Forbidden("A cross-signing public key is the same as a device ID")
        changed = False
        for key_type, key in given.items():
            key_json = _encode(key)
            if key_type in stored and stored[key_type].key_json == key_json:
                continue
            (CrossSigningKey.insert(user_id=user_id, key_type=key_type,
                                    public_key=publics[key_type], key_json=key_json,
                                    updated_ts=now_ms())
             .on_conflict(conflict_target=[CrossSigningKey.user_id, CrossSigningKey.key_type],
                          update={CrossSigningKey.public_key: publics[key_type],
                                  CrossSigningKey.key_json: key_json,
                                  CrossSigningKey.updated_ts: now_ms()})
             .execute())
            changed = True
        if changed:
            device_lists.mark_changed(user_id)


def _device_ids(user_id: str) -> set[str]:
    return {d for (d,) in Device.select(Device.device_id).where(Device.user == user_id).tuples()}


# --- /keys/signatures/upload --------------------------------------------------------------------

class _Refused(Exception):
    def __init__(self, errcode: str, message: str):
        super().__init__(message)
        self.body = {"errcode": errcode, "error": message}


def upload_signatures(requester_id: str, signed: dict) -> dict:
    """Check and store each signature; per-key failures are reported, the rest are kept."""
    failures: dict[str, dict] = {}
    with write_transaction():
        own = _stored(requester_id)
        announce = set()
        for target_user, objects in signed.items():
            if not isinstance(objects, dict):
                failures[target_user] = {"*": _Refused("M_BAD_JSON", "must be an object").body}
                continue
            for key_id, obj in objects.items():
                try:
                    if not isinstance(obj, dict):
                        raise _Refused("M_BAD_JSON", "The signed object must be an object")
                    if target_user == requester_id:
                        stored_any = _store_own_signatures(requester_id, key_id, obj, own)
                        announce_user = requester_id
                    else:
                        stored_any = _store_user_signature(requester_id, target_user, key_id,
                                                           obj, own)
                        announce_user = requester_id
                    if stored_any:
                        announce.add(announce_user)
                except _Refused as refused:
                    failures.setdefault(target_user, {})[key_id] = refused.body
        for user_id in announce:
            device_lists.mark_changed(user_id)
    return {"failures": failures}


def _new_signatures(obj: dict, signer_user: str, stored_obj: dict) -> dict[str, str]:
    """The signatures of ``signer_user`` in ``obj`` that the stored object does not carry."""
    if signing.signable_bytes(obj) != signing.signable_bytes(stored_obj):
        raise _Refused("M_INVALID_PARAM", "The signed object does not match the stored key")
    given = signing.signatures_by(obj, signer_user)
    if not given:
        raise _Refused("M_INVALID_PARAM", "No signature by the uploading user")
    known = signing.signatures_by(stored_obj, signer_user)
    return {k: v for k, v in given.items() if known.get(k) != v}


def _check(obj: dict, signer_user: str, signer_key_id: str, public: str | None,
           signature: str) -> None:
    if not isinstance(signature, str) or public is None:
        raise _Refused("M_INVALID_SIGNATURE", f"Unknown signing key {signer_key_id}")
    if not signing.verify_signature(signing.signable_bytes(obj), signature, public):
        raise _Refused("M_INVALID_SIGNATURE", "Invalid signature")


def _save(target_user: str, target_key: str, signer_user: str, signer_key_id: str,
          signature: str) -> None:
    (KeySignature.insert(target_user_id=target_user, target_key_id=target_key,
                         signer_user_id=signer_user, signer_key_id=signer_key_id,
                         signature=signature)
     .on_conflict(conflict_target=[KeySignature.target_user_id, KeySignature.target_key_id,
                                   KeySignature.signer_user_id, KeySignature.signer_key_id],
                  update={KeySignature.signature: signature})
     .execute())


def _device_ed25519(user_id: str, device_id: str) -> str | None:
    row = DeviceKeys.get_or_none((DeviceKeys.user_id == user_id)
                                 & (DeviceKeys.device_id == device_id))
    if row is None:
        return None
    return json.loads(row.key_json).get("keys", {}).get(f"ed25519:{device_id}")


def _store_own_signatures(user_id: str, key_id: str, obj: dict, own: dict) -> bool:
    """A device of the user signed by their self-signing key, or their master key signed by
    one of their devices."""
    master = own.get("master")
    if master is not None and key_id == master.public_key:
        new = _new_signatures(obj, user_id, json.loads(master.key_json))
        for signer_key_id, signature in new.items():
            device_id = signer_key_id.partition(":")[2]
            _check(obj, user_id, signer_key_id, _device_ed25519(user_id, device_id), signature)
            _save(user_id, key_id, user_id, signer_key_id, signature)
        return bool(new)
    device = DeviceKeys.get_or_none((DeviceKeys.user_id == user_id)
                                    & (DeviceKeys.device_id == key_id))
    if device is None:
        raise _Refused("M_NOT_FOUND", "Unknown device or key")
    self_signing = own.get("self_signing")
    new = _new_signatures(obj, user_id, json.loads(device.key_json))
    for signer_key_id, signature in new.items():
        public = self_signing.public_key if self_signing is not None else None
        if signer_key_id != f"ed25519:{public}":
            raise _Refused("M_INVALID_SIGNATURE",
                           "Devices can only be signed by the self-signing key")
        _check(obj, user_id, signer_key_id, public, signature)
        _save(user_id, key_id, user_id, signer_key_id, signature)
    return bool(new)


def _store_user_signature(signer: str, target_user: str, key_id: str, obj: dict,
                          own: dict) -> bool:
    """Another user's master key signed by the signer's user-signing key."""
    target_master = CrossSigningKey.get_or_none((CrossSigningKey.user_id == target_user)
                                                & (CrossSigningKey.key_type == "master"))
    if target_master is None or target_master.public_key != key_id:
        raise _Refused("M_NOT_FOUND", "Only another user's master key can be signed")
    user_signing = own.get("user_signing")
    new = _new_signatures(obj, signer, json.loads(target_master.key_json))
    for signer_key_id, signature in new.items():
        public = user_signing.public_key if user_signing is not None else None
        if signer_key_id != f"ed25519:{public}":
            raise _Refused("M_INVALID_SIGNATURE",
                           "Other users' keys can only be signed by the user-signing key")
        _check(obj, signer, signer_key_id, public, signature)
        _save(target_user, key_id, signer, signer_key_id, signature)
    return bool(new)
