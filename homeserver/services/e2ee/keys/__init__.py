"""End-to-end encryption keys (spec module: End-to-End Encryption).

- ``upload``: POST /keys/upload (device, one-time and fallback keys)
- ``query``: POST /keys/query (device and cross-signing keys as others may see them)
- ``claim``: POST /keys/claim (one-time keys handed out at most once, then fallback keys)
- ``cross_signing``: POST /keys/device_signing/upload and /keys/signatures/upload
- ``changes``: GET /keys/changes
- ``signing``: Ed25519 checks of signed JSON
"""

from .... import errors


class InvalidSignature(errors.MatrixError):
    errcode, status = "M_INVALID_SIGNATURE", 400
    default_message = "Invalid signature"

