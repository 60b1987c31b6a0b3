"""Room-version event format: building PDUs, content and reference hashes, event IDs, redaction,
size limits and the client view of an event. Pure functions: no database, no Flask.

Spec: content/rooms/vN.md (event format, event IDs, redactions), server-server-api "Calculating
the reference hash / content hash for an event", client-server-api "Room event format" and
"Size limits", appendices (canonical JSON, unpadded base64).
"""

from __future__ import annotations

import copy
import secrets
import string

from ... import errors
from .. import canonical
from .room_versions import RoomVersion

MAX_EVENT_BYTES = 65536
# sender, room_id, state_key, type and event_id each (client-server "Size limits").
MAX_ID_BYTES = 255

_ID_ALPHABET = string.ascii_letters + string.digits

# Top-level keys every version's redaction algorithm keeps.
_KEPT_TOP_LEVEL = frozenset({
    "event_id", "type", "room_id", "sender", "state_key", "content", "hashes", "signatures",
    "depth", "prev_events", "auth_events", "origin_server_ts",
})
# ...and those only v1-v10 keep (v11 stopped protecting them).
_KEPT_TOP_LEVEL_BEFORE_V11 = _KEPT_TOP_LEVEL | {"prev_state", "origin", "membership"}

_POWER_LEVEL_KEYS = ("ban", "events", "events_default", "kick", "redact", "state_default",
                     "users", "users_default")

# PDU-only keys a client never sees (client-server "Room event format").
_CLIENT_KEYS = ("content", "origin_server_ts", "sender", "type", "state_key")


# --- hashes and IDs -----------------------------------------------------------------------------

def content_hash(pdu: dict) -> str:
    """The content hash: SHA-256 of the canonical JSON of the whole event without `unsigned`,
    `signatures` and `hashes`, as unpadded standard base64."""
    stripped = {k: v for k, v in pdu.items() if k not in ("unsigned", "signatures", "hashes")}
    return canonical.unpadded_base64(canonical.sha256(canonical.encode(stripped)))


def _reference_digest(pdu: dict, version: RoomVersion) -> bytes:
    # Only encoded, never handed out: no need to copy the kept values.
    redacted = _redact(pdu, version, _share)
    redacted.pop("signatures", None)
    redacted.pop("unsigned", None)
    return canonical.sha256(canonical.encode(redacted))


def reference_hash(pdu: dict, version: RoomVersion) -> str:
    """The reference hash (SHA-256 of the redacted event without `signatures`/`unsigned`), in
    the base64 alphabet of the version's event IDs: standard up to v3, URL-safe from v4."""
    digest = _reference_digest(pdu, version)
    if version.event_id_format == "v4":
        return canonical.urlsafe_unpadded_base64(digest)
    return canonical.unpadded_base64(digest)


def compute_event_id(pdu: dict, version: RoomVersion) -> str:
    """The event's ID: the PDU's own `event_id` in v1-v2, "$" + reference hash from v3."""
    if version.event_id_in_pdu:
        return pdu["event_id"]
    return "$" + reference_hash(pdu, version)


def room_id_for_create_event(event_id: str) -> str:
    """v12+: the room ID is the create event's ID with the sigil "!" instead of "$"."""
    return "!" + event_id[1:]


def _random_event_id(server_name: str) -> str:
    opaque = "".join(secrets.choice(_ID_ALPHABET) for _ in range(18))
    return f"${opaque}:{server_name}"


# --- building events ----------------------------------------------------------------------------

def new_event(version: RoomVersion, *, room_id: str | None, sender: str, event_type: str,
              content: dict, state_key: str | None = None, prev_event_ids: list[str],
              auth_event_ids: list[str], depth: int, origin_server_ts: int, server_name: str,
              prev_event_hashes: dict[str, dict] | None = None,
              redacts: str | None = None) -> tuple[str, dict]:
    """Build a PDU in the room version's format and return ``(event_id, pdu)``.

    ``prev_event_hashes`` maps event IDs named in ``prev_event_ids``/``auth_event_ids`` to those
    events' ``hashes`` objects; v1-v2 PDUs reference other events as ``[event_id, hashes]``
    pairs. An event missing from the map is referenced with an empty ``sha256`` rather than an
    invented one (this server does not federate, so nobody verifies these hashes yet).

    ``room_id`` is None only for the v12+ m.room.create event, which has no room ID (the room ID
    is derived from its event ID: ``room_id_for_create_event``).

    Raises M_BAD_JSON when the content cannot be canonical JSON and M_TOO_LARGE when the event
    exceeds the size limits.
    """
    check_canonical(content, version)
    is_v12_create = version.room_id_from_create_event and event_type == "m.room.create"
    if room_id is None and not is_v12_create:
        raise ValueError("room_id is required except for a v12+ m.room.create event")
    if is_v12_create:
        room_id = None

    content = dict(content)
    if redacts is not None and version.redacts_in_content:
        content["redacts"] = redacts

    pdu: dict = {
        "type": event_type,
        "sender": sender,
        "content": content,
        "origin_server_ts": origin_server_ts,
        "depth": min(depth, version.max_depth),
    }
    if room_id is not None:
        pdu["room_id"] = room_id
    if state_key is not None:
        pdu["state_key"] = state_key
    if redacts is not None and not version.redacts_in_content:
        pdu["redacts"] = redacts

    event_id = None
    if version.event_id_in_pdu:
        event_id = _random_event_id(server_name)
        pdu["event_id"] = event_id
        hashes = prev_event_hashes or {}
        pdu["prev_events"] = [[i, dict(hashes.get(i) or {"sha256": ""})] for i in prev_event_ids]
        pdu["auth_events"] = [[i, dict(hashes.get(i) or {"sha256": ""})] for i in auth_event_ids]
    else:
        pdu["prev_events"] = list(prev_event_ids)
        pdu["auth_events"] = list(auth_event_ids)
    # No `origin` key: the current PDU schemas (pdu_v1..pdu_v12) no longer define one.

    pdu["hashes"] = {"sha256": content_hash(pdu)}
    # This server has no signing key (it does not federate), so the PDU carries no signatures.
    pdu["signatures"] = {}

    if event_id is None:
        event_id = compute_event_id(pdu, version)
    check_event_size(pdu, event_id=event_id)
    return event_id, pdu


def event_ids_of(references: list) -> list[str]:
    """Event IDs from `prev_events`/`auth_events` of any version (plain IDs or [id, hash])."""
    return [r[0] if isinstance(r, (list, tuple)) else r for r in references]


# --- redaction ----------------------------------------------------------------------------------

def redact(pdu: dict, version: RoomVersion) -> dict:
    """The room version's redaction algorithm: a new dict (sharing nothing with ``pdu``) holding
    only the protected keys."""
    return _redact(pdu, version, copy.deepcopy)


def _share(value):
    return value


def _redact(pdu: dict, version: RoomVersion, copier) -> dict:
    kept_top = _KEPT_TOP_LEVEL if version.v11_redaction_and_creator else _KEPT_TOP_LEVEL_BEFORE_V11
    redacted = {k: copier(v) for k, v in pdu.items() if k in kept_top}
    content = pdu.get("content")
    redacted["content"] = _redacted_content(pdu.get("type"), content, version, copier) \
        if isinstance(content, dict) else {}
    return redacted


def _redacted_content(event_type, content: dict, version: RoomVersion, copier) -> dict:
    if event_type == "m.room.create" and version.v11_redaction_and_creator:
        return copier(content)
    keys: tuple[str, ...] = ()
    if event_type == "m.room.member":
        keys = ("membership",)
        if version.redaction_keeps_authorising_user:
            keys += ("join_authorised_via_users_server",)
    elif event_type == "m.room.create":
        keys = ("creator",)
    elif event_type == "m.room.join_rules":
        keys = ("join_rule", "allow") if version.redaction_keeps_join_rules_allow \
            else ("join_rule",)
    elif event_type == "m.room.power_levels":
        keys = _POWER_LEVEL_KEYS
        if version.v11_redaction_and_creator:
            keys += ("invite",)
    elif event_type == "m.room.aliases" and version.special_case_aliases:
        keys = ("aliases",)
    elif event_type == "m.room.history_visibility":
        keys = ("history_visibility",)
    elif event_type == "m.room.redaction" and version.v11_redaction_and_creator:
        keys = ("redacts",)
    redacted = {k: copier(content[k]) for k in keys if k in content}
    if event_type == "m.room.member" and version.v11_redaction_and_creator:
        invite = content.get("third_party_invite")
        if isinstance(invite, dict) and "signed" in invite:
            redacted["third_party_invite"] = {"signed": copier(invite["signed"])}
    return redacted


# --- validation ---------------------------------------------------------------------------------

def check_canonical(value, version: RoomVersion | None = None) -> None:
    """M_BAD_JSON unless ``value`` is valid canonical JSON (no floats, safe-range integers).

    Enforced for every room version: v1-v5 only tolerate such values in events received from
    elsewhere, and this server refuses to create what it could not hash reproducibly.
    """
    canonical.check_canonical(value)


def _too_long(value) -> bool:
    return isinstance(value, str) and len(value.encode("utf-8")) > MAX_ID_BYTES


def check_event_size(pdu: dict, event_id: str | None = None) -> None:
    """M_TOO_LARGE when the PDU's canonical JSON exceeds 65536 bytes or one of `sender`,
    `room_id`, `state_key`, `type`, `event_id` exceeds 255 bytes."""
    for key in ("sender", "room_id", "state_key", "type", "event_id"):
        if _too_long(pdu.get(key)):
            raise errors.TooLarge(f"The event's {key} is longer than {MAX_ID_BYTES} bytes")
    if _too_long(event_id):
        raise errors.TooLarge(f"The event's event_id is longer than {MAX_ID_BYTES} bytes")
    if len(canonical.encode(pdu)) > MAX_EVENT_BYTES:
        raise errors.TooLarge(f"The event is larger than {MAX_EVENT_BYTES} bytes")


# --- client view --------------------------------------------------------------------------------

def client_event(pdu: dict, event_id: str, room_id: str) -> dict:
    """The client-server "Room event format" of a PDU (without `unsigned`, which the caller adds).

    Redaction events carry `redacts` both at the top level and in `content`, whatever the room
    version, as the v11 compatibility note asks.
    """
    event = {k: pdu[k] for k in _CLIENT_KEYS if k in pdu}
    event["event_id"] = event_id
    event["room_id"] = room_id
    if pdu.get("type") == "m.room.redaction":
        content = pdu.get("content")
        content = content if isinstance(content, dict) else {}
        redacts = pdu.get("redacts")
        if not isinstance(redacts, str):
            redacts = content.get("redacts")
        if isinstance(redacts, str):
            event["redacts"] = redacts
            if content.get("redacts") != redacts:
                event["content"] = {**content, "redacts": redacts}
    return event
