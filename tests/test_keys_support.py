"""Helpers for the end-to-end encryption tests (no tests here): users with extra devices,
Ed25519 signing of key objects like a real client does."""

from __future__ import annotations

import base64
import secrets

import canonicaljson
from Crypto.PublicKey import ECC
from Crypto.Signature import eddsa

from homeserver.db import now_ms, write_transaction
from homeserver.models.users import Device
from homeserver.services.accounts import accounts, access_tokens
from user_handle import UserHandle

V3 = "/_matrix/client/v3"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


class SigningKey:
    """An Ed25519 key pair that signs JSON objects as the spec's Signing JSON describes."""

    def __init__(self):
        self._key = ECC.generate(curve="ed25519")
        self.public = b64(self._key.public_key().export_key(format="raw"))

    def sign(self, obj: dict, user_id: str, key_id: str) -> dict:
        signable = {k: v for k, v in obj.items() if k not in ("signatures", "unsigned")}
        signature = eddsa.new(self._key, "rfc8032").sign(
            canonicaljson.encode_canonical_json(signable))
        obj.setdefault("signatures", {}).setdefault(user_id, {})[key_id] = b64(signature)
        return obj


def new_device(client, user_id: str, device_id: str | None = None,
               display_name: str | None = None, password: str = "pw") -> UserHandle:
    """Another logged-in device of an existing user (created directly, as a login would)."""
    device_id = device_id or secrets.token_hex(5).upper()
    with write_transaction():
        Device.create(user=user_id, device_id=device_id, display_name=display_name,
                      created_ts=now_ms())
        issued = access_tokens.issue_tokens(user_id, device_id, with_refresh=False, lifetime_ms=0)
    return UserHandle(client, user_id, issued.access_token, device_id, password)


def make_user(client, localpart: str, device_id: str | None = None,
              display_name: str | None = None, password: str = "correct horse") -> UserHandle:
    user_id = f"@{localpart}:localhost:8008"
    accounts.create_user(user_id, password)
    return new_device(client, user_id, device_id, display_name, password)


def device_keys_for(handle: UserHandle, key: SigningKey, curve: str = "Y3VydmU") -> dict:
    keys = {
        "user_id": handle.user_id, "device_id": handle.device_id,
        "algorithms": ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
        "keys": {f"ed25519:{handle.device_id}": key.public,
                 f"curve25519:{handle.device_id}": curve},
    }
    return key.sign(keys, handle.user_id, f"ed25519:{handle.device_id}")


def signed_otk(handle: UserHandle, key: SigningKey, public: str, fallback=False) -> dict:
    obj = {"key": public}
    if fallback:
        obj["fallback"] = True
    return key.sign(obj, handle.user_id, f"ed25519:{handle.device_id}")


def cross_signing_key(user_id: str, usage: str, key: SigningKey,
                      signer: SigningKey | None = None) -> dict:
    obj = {"user_id": user_id, "usage": [usage], "keys": {f"ed25519:{key.public}": key.public}}
    if signer is not None:
        signer.sign(obj, user_id, f"ed25519:{signer.public}")
    return obj
