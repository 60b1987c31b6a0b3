"""Checking Ed25519 signatures on signed JSON objects (spec appendices: Signing JSON)."""

from __future__ import annotations

from Crypto.PublicKey import ECC
from Crypto.Signature import eddsa

from ... import canonical


def signable_bytes(obj: dict) -> bytes:
    """The canonical JSON a signature covers: the object without ``signatures`` and ``unsigned``."""
    return canonical.encode({k: v for k, v in obj.items() if k not in ("signatures", "unsigned")})


def _public_key(public_key_b64: str) -> ECC.EccKey | None:
    try:
        raw = canonical.decode_base64(public_key_b64)
        if len(raw) != 32:
            return None
        return eddsa.import_public_key(raw)
    except (ValueError, TypeError):
        return None


def is_signatures_map(value) -> bool:
    """The spec's ``Signatures`` shape: ``{user_id: {key_id: signature string}}``."""
    return isinstance(value, dict) and all(
        isinstance(by_key, dict) and all(isinstance(sig, str) for sig in by_key.values())
        for by_key in value.values())


def signatures_by(obj: dict, signer_user_id: str) -> dict:
    """``obj["signatures"][signer_user_id]``, or {} when any level of it is not an object."""
    signatures = obj.get("signatures")
    by_user = signatures.get(signer_user_id) if isinstance(signatures, dict) else None
    return by_user if isinstance(by_user, dict) else {}


def verify(obj: dict, signer_user_id: str, key_id: str, public_key_b64: str) -> bool:
    """Whether ``obj`` carries a valid signature by ``key_id`` (``ed25519:...``) of the user."""
    signature_b64 = signatures_by(obj, signer_user_id).get(key_id)
    if not isinstance(signature_b64, str):
        return False
    return verify_signature(signable_bytes(obj), signature_b64, public_key_b64)


def verify_signature(message: bytes, signature_b64: str, public_key_b64: str) -> bool:
    key = _public_key(public_key_b64)
    if key is None:
        return False
    try:
        signature = canonical.decode_base64(signature_b64)
        eddsa.new(key, "rfc8032").verify(message, signature)
        return True
    except (ValueError, TypeError):
        return False
