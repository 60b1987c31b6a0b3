"""POST /keys/query: device and cross-signing keys of users, as the requester may see them.

Signatures added through /keys/signatures/upload are shown to the requester only when made by
the key owner themselves or by the requester (nobody sees another user's user-signing
signatures: that would leak who verified whom).
"""

from __future__ import annotations

import json
from collections import defaultdict

from ....identifiers import server_of
from ....models.keys import CrossSigningKey, DeviceKeys, KeySignature
from ....models.users import Device

CROSS_SIGNING_FIELDS = {"master": "master_keys", "self_signing": "self_signing_keys",
                        "user_signing": "user_signing_keys"}


def remote_failures(user_ids, server_name: str) -> dict:
    """Users of other servers cannot be reached: this server does not federate."""
    failures = {}
    for user_id in user_ids:
        server = server_of(user_id)
        if server != server_name:
            failures[server or user_id] = {"status": 503,
                                           "message": "Federation is not supported"}
    return failures


def query_keys(requester_id: str, wanted: dict[str, list[str]], server_name: str) -> dict:
    local = {u: devices for u, devices in wanted.items() if server_of(u) == server_name}
    result = {"device_keys": {}, "master_keys": {}, "self_signing_keys": {},
              "failures": remote_failures(wanted, server_name)}
    if local:
        extra = _visible_signatures(requester_id, list(local))
        result["device_keys"] = _device_keys(local, extra)
        for user_id, key_type, key in _cross_signing_keys(list(local), extra):
            if key_type == "user_signing" and user_id != requester_id:
                continue
            result.setdefault(CROSS_SIGNING_FIELDS[key_type], {})[user_id] = key
    return result


def _device_keys(wanted: dict[str, list[str]], extra: dict) -> dict:
    out: dict[str, dict] = {user_id: {} for user_id in wanted}
    query = (DeviceKeys.select(DeviceKeys.user_id, DeviceKeys.device_id, DeviceKeys.key_json,
                               Device.display_name)
             .join(Device, on=((Device.user == DeviceKeys.user_id)
                               & (Device.device_id == DeviceKeys.device_id)))
             .where(DeviceKeys.user_id.in_(list(wanted))).tuples())
    for user_id, device_id, key_json, display_name in query:
        devices = wanted[user_id]
        if devices and device_id not in devices:
            continue
        keys = json.loads(key_json)
        _merge_signatures(keys, extra.get((user_id, device_id)))
        keys["unsigned"] = ({"device_display_name": display_name}
                            if display_name is not None else {})
        out[user_id][device_id] = keys
    return out


def _cross_signing_keys(user_ids: list[str], extra: dict):
    rows = (CrossSigningKey.select(CrossSigningKey.user_id, CrossSigningKey.key_type,
                                   CrossSigningKey.public_key, CrossSigningKey.key_json)
            .where(CrossSigningKey.user_id.in_(user_ids)).tuples())
    for user_id, key_type, public_key, key_json in rows:
        key = json.loads(key_json)
        _merge_signatures(key, extra.get((user_id, public_key)))
        yield user_id, key_type, key


def _visible_signatures(requester_id: str, user_ids: list[str]) -> dict:
    """{(target user, target key id): [(signer user, signer key id, signature)]}"""
    rows = (KeySignature.select(KeySignature.target_user_id, KeySignature.target_key_id,
                                KeySignature.signer_user_id, KeySignature.signer_key_id,
                                KeySignature.signature)
            .where(KeySignature.target_user_id.in_(user_ids)
                   & ((KeySignature.signer_user_id == KeySignature.target_user_id)
                      | (KeySignature.signer_user_id == requester_id)))
            .tuples())
    found = defaultdict(list)
    for target_user, target_key, signer_user, signer_key, signature in rows:
        found[(target_user, target_key)].append((signer_user, signer_key, signature))
    return found


def _merge_signatures(key: dict, extra) -> None:
    if not extra:
        return
    signatures = key.setdefault("signatures", {})
    for signer_user, signer_key, signature in extra:
        signatures.setdefault(signer_user, {})[signer_key] = signature
