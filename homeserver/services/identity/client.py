"""HTTP calls to identity servers (Identity Service API v2): 3PID bind and unbind, lookup
with ``hash_details``, store-invite, and the public-key validity check of third-party invites.

The identity server is the client's choice (``id_server``), so it is reached under the address
policy of URL previews and push gateways (services/outbound_http.py: public addresses only,
pinned connections, no redirects, one deadline, a bounded answer), over https. Identity servers
the operator names in ``identity_servers.trusted`` are reached at any address; with
``allow_untrusted: false`` no other is.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from ... import __version__, errors, identifiers
from .. import canonical, outbound_http

logger = logging.getLogger(__name__)

IDENTITY_PREFIX = "/_matrix/identity/v2"
USER_AGENT = f"homeserver/{__version__}"
_PUBLIC_ONLY = outbound_http.AddressPolicy(allowlist=(), denylist=())
_SPEC_ERRCODE = re.compile(r"M_[A-Z0-9_]{1,60}")
# An identity server's word that the client's id_access_token is bad must not reach the
# client as M_UNKNOWN_TOKEN: clients take that code as their own session ending.
_TOKEN_ERRCODES = ("M_UNKNOWN_TOKEN", "M_MISSING_TOKEN")
_ONLY_TRUSTED = "This server only uses the identity servers its operator trusts"
_NOT_PUBLIC = "This server does not reach identity servers at non-public addresses"


@dataclass(frozen=True)
class Settings:
    trusted: tuple[str, ...] = ()
    allow_untrusted: bool = True
    trusted_scheme: str = "https"
    trusted_verify_tls: bool = True
    timeout_s: float = 10.0
    max_response_size: int = 64 * 1024


_settings = Settings()


def configure(section: dict) -> None:
    """The ``identity_servers`` configuration section (set by create_app)."""
    global _settings
    _settings = Settings(trusted=tuple(name.lower() for name in section["trusted"]),
                         allow_untrusted=section["allow_untrusted"],
                         trusted_scheme=section["trusted_scheme"],
                         trusted_verify_tls=section["trusted_verify_tls"],
                         timeout_s=section["timeout_s"],
                         max_response_size=section["max_response_size"])


def check_server_name(id_server) -> str:
    """The ``id_server`` a client sent: a host with an optional port (M_INVALID_PARAM if not)."""
    if not isinstance(id_server, str) or not identifiers.is_valid_server_name(id_server):
        raise errors.InvalidParam("id_server must be a host name with an optional port")
    return id_server


def check_may_use(id_server) -> None:
    """Refuse, before any request, an identity server this server would not reach (bad name,
    untrusted with ``allow_untrusted: false``, or a non-public address): M_INVALID_PARAM or
    M_SERVER_NOT_TRUSTED."""
    parts = urlsplit(base_url(id_server))
    if _is_trusted(parts.hostname or "", parts.port):
        return
    if not _settings.allow_untrusted:
        raise errors.ServerNotTrusted(_ONLY_TRUSTED)
    try:
        outbound_http.resolve(parts.hostname or "", parts.port or 443, _PUBLIC_ONLY)
    except outbound_http.AddressRefused:
        raise errors.ServerNotTrusted(_NOT_PUBLIC) from None
    except outbound_http.FetchError:
        raise errors.IdentityServerUnavailable() from None


def _is_trusted(host: str, port: int | None) -> bool:
    host = host.lower()
    names = {host, f"[{host}]"} if ":" in host else {host}
    return any(entry in names or (port is not None and entry in {f"{n}:{port}" for n in names})
               for entry in _settings.trusted)


def base_url(id_server: str) -> str:
    """Where the identity server ``id_server`` (host[:port]) answers."""
    parts = urlsplit("//" + check_server_name(id_server))
    trusted = _is_trusted(parts.hostname or "", parts.port)
    scheme = _settings.trusted_scheme if trusted else "https"
    return f"{scheme}://{id_server}"


def _exchange(method: str, url: str, *, body: dict | None = None,
              access_token: str | None = None) -> tuple[int, object]:
    """One request; (status, the answer's JSON or None). ServerNotTrusted when the address
    policy refuses the host, IdentityServerUnavailable when there is no answer."""
    parts = urlsplit(url)
    try:
        trusted = _is_trusted(parts.hostname or "", parts.port)
    except ValueError:
        raise errors.IdentityServerUnavailable("Bad identity server URL") from None
    if not trusted and not _settings.allow_untrusted:
        raise errors.ServerNotTrusted(_ONLY_TRUSTED)
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    if access_token is not None:
        headers["Authorization"] = f"Bearer {access_token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        headers["Content-Type"] = "application/json"
    try:
        status, answer = outbound_http.request(
            method, url, outbound_http.AddressPolicy.trusted() if trusted else _PUBLIC_ONLY,
            timeout_s=_settings.timeout_s, max_bytes=_settings.max_response_size, body=data,
            headers=headers, verify_tls=not trusted or _settings.trusted_verify_tls)
    except outbound_http.AddressRefused:
        raise errors.ServerNotTrusted(_NOT_PUBLIC) from None
    except outbound_http.FetchError as exc:
        logger.info("identity server %s: %s", parts.netloc, exc)
        raise errors.IdentityServerUnavailable() from None
    try:
        return status, json.loads(answer)
    except ValueError:
        return status, None


def _failure(status: int, answer: object) -> errors.MatrixError:
    """An identity server's refusal, passed on to the client as the spec asks for binds
    ("proxy any errors received by the identity server")."""
    if 400 <= status < 500 and isinstance(answer, dict) \
            and isinstance(answer.get("errcode"), str) \
            and _SPEC_ERRCODE.fullmatch(answer["errcode"]):
        message = answer.get("error") if isinstance(answer.get("error"), str) else ""
        message = f"Identity server: {message[:300] or answer['errcode']}"
        if answer["errcode"] in _TOKEN_ERRCODES:
            return errors.Forbidden(f"{message} (the id_access_token was refused)")
        refused = errors.MatrixError(message, status=status)
        refused.errcode = answer["errcode"]
        return refused
    return errors.IdentityServerUnavailable(f"The identity server answered HTTP {status}")


def _json_call(method: str, id_server: str, path: str, *, body: dict | None = None,
               access_token: str | None = None) -> dict:
    status, answer = _exchange(method, base_url(id_server) + IDENTITY_PREFIX + path, body=body,
                               access_token=access_token)
    if not 200 <= status < 300:
        raise _failure(status, answer)
    if not isinstance(answer, dict):
        raise errors.IdentityServerUnavailable("The identity server's answer is not JSON")
    return answer


def bind(id_server: str, access_token: str, sid: str, client_secret: str,
         mxid: str) -> tuple[str, str]:
    """POST /3pid/bind; the (medium, address) the identity server bound to ``mxid``."""
    answer = _json_call("POST", id_server, "/3pid/bind", access_token=access_token,
                        body={"sid": sid, "client_secret": client_secret, "mxid": mxid})
    medium, address = answer.get("medium"), answer.get("address")
    if not (isinstance(medium, str) and isinstance(address, str) and medium and address
            and len(medium) <= 16 and len(address) <= 320):
        raise errors.IdentityServerUnavailable("The identity server's bind answer has no "
                                               "medium and address")
    return medium, address


def unbind(id_server: str, mxid: str, medium: str, address: str) -> bool | None:
    """POST /3pid/unbind; True when unbound, False when the identity server refused (a 4xx:
    unknown binding, or it wants a request signed by this server, which has no server key),
    None when it could not be reached (worth trying again later)."""
    try:
        status, _ = _exchange("POST", base_url(id_server) + IDENTITY_PREFIX + "/3pid/unbind",
                              body={"mxid": mxid,
                                    "threepid": {"medium": medium, "address": address}})
    except errors.ServerNotTrusted:
        return False
    except errors.IdentityServerUnavailable:
        return None
    if 200 <= status < 300:
        return True
    return False if 400 <= status < 500 else None


def lookup(id_server: str, access_token: str, medium: str, address: str) -> str | None:
    """The Matrix ID bound to the 3PID, if any (GET /hash_details, then POST /lookup with
    sha256 when offered, else ``none``)."""
    details = _json_call("GET", id_server, "/hash_details", access_token=access_token)
    algorithms = details.get("algorithms")
    pepper = details.get("lookup_pepper")
    if not isinstance(algorithms, list) or not isinstance(pepper, str):
        raise errors.IdentityServerUnavailable("The identity server's hash_details are bad")
    if "sha256" in algorithms:
        digest = hashlib.sha256(f"{address} {medium} {pepper}".encode("utf-8")).digest()
        algorithm, key = "sha256", canonical.urlsafe_unpadded_base64(digest)
    elif "none" in algorithms:
        algorithm, key = "none", f"{address} {medium}"
    else:
        raise errors.IdentityServerUnavailable("The identity server offers no lookup algorithm "
                                               "this server knows")
    answer = _json_call("POST", id_server, "/lookup", access_token=access_token,
                        body={"algorithm": algorithm, "pepper": pepper, "addresses": [key]})
    mappings = answer.get("mappings")
    mxid = mappings.get(key) if isinstance(mappings, dict) else None
    return mxid if isinstance(mxid, str) and identifiers.is_valid_user_id(mxid) else None


@dataclass(frozen=True)
class StoredInvite:
    token: str
    display_name: str
    # [{"public_key": ..., "key_validity_url": ...}], the first one also the legacy fields.
    public_keys: list


def store_invite(id_server: str, access_token: str, details: dict) -> StoredInvite:
    """POST /store-invite with ``details`` (medium, address, room_id, sender and the room's
    and sender's names); the token and keys of the m.room.third_party_invite event."""
    answer = _json_call("POST", id_server, "/store-invite", access_token=access_token,
                        body=details)
    token, display_name = answer.get("token"), answer.get("display_name")
    keys = [entry for entry in answer.get("public_keys") or []
            if isinstance(entry, dict) and isinstance(entry.get("public_key"), str)
            and isinstance(entry.get("key_validity_url"), str)]
    if not keys and isinstance(answer.get("public_key"), str):
        keys = [{"public_key": answer["public_key"],
                 "key_validity_url": base_url(id_server) + IDENTITY_PREFIX + "/pubkey/isvalid"}]
    if not (isinstance(token, str) and 0 < len(token) <= 255 and keys):
        raise errors.IdentityServerUnavailable("The identity server's store-invite answer has "
                                               "no token or public key")
    keys = [{"public_key": k["public_key"][:100], "key_validity_url": k["key_validity_url"][:500]}
            for k in keys[:10]]
    return StoredInvite(token, display_name[:256] if isinstance(display_name, str) else "",
                        keys)


def key_is_valid(key_validity_url: str, public_key: str) -> bool:
    """GET ``key_validity_url?public_key=...`` (spec: "using the provided URL rather than
    constructing a new one"); False when it says not valid or cannot be asked."""
    separator = "&" if "?" in key_validity_url else "?"
    try:
        status, answer = _exchange(
            "GET", key_validity_url + separator + urlencode({"public_key": public_key}))
    except errors.MatrixError:
        return False
    return 200 <= status < 300 and isinstance(answer, dict) and answer.get("valid") is True
