"""GET /voip/turnServer (spec module "Voice over IP"): short-lived TURN credentials.

The TURN REST API scheme (coturn's ``use-auth-secret``): the username is
``<expiry unix seconds>:<user_id>`` and the password is the base64 HMAC-SHA1 of the username
keyed with the secret the TURN server shares with this server, so the TURN server checks
them without asking us. Nothing is stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from ... import db, errors


def is_configured(section: dict) -> bool:
    return bool(section.get("uris")) and bool(section.get("shared_secret"))


def credentials(section: dict, user_id: str) -> dict:
    """Credentials for ``user_id``; without a configured TURN server the endpoint does not
    exist here, so it answers like an unknown endpoint (404 M_UNRECOGNIZED)."""
    if not is_configured(section):
        raise errors.Unrecognized("This server offers no TURN server")
    lifetime_s = section["user_lifetime_ms"] // 1000
    expiry = db.now_ms() // 1000 + lifetime_s
    username = f"{expiry}:{user_id}"
    digest = hmac.new(section["shared_secret"].encode("utf-8"), username.encode("utf-8"),
                      hashlib.sha1).digest()
    return {"username": username, "password": base64.b64encode(digest).decode("ascii"),
            "uris": list(section["uris"]), "ttl": lifetime_s}
