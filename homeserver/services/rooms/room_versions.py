"""Room versions 1-12 and the properties in which their event format and rules differ.

Each flag names one difference the spec's room version pages (content/rooms/vN.md) define, so
code asks ``version.knock_allowed`` rather than comparing version strings.
"""

from __future__ import annotations

from dataclasses import dataclass

from ... import errors


@dataclass(frozen=True)
class RoomVersion:
    identifier: str
    # "v1": "$opaque:server" event IDs chosen by the server; "v3": reference hash, standard
    # unpadded base64; "v4": reference hash, URL-safe unpadded base64 (v4 and later).
    event_id_format: str
    # v1-v5: m.room.aliases events have their own auth rule and redaction keeps `aliases`.
    special_case_aliases: bool
    # v6+: canonical JSON is enforced strictly (no floats, integers within the safe range).
    strict_canonical_json: bool
    # v6+: the `notifications` key of m.room.power_levels is checked in the auth rules.
    limit_notifications_power_levels: bool
    # v7+: the `knock` membership and join rule exist.
    knock_allowed: bool
    # v8+: the `restricted` join rule (join authorised by membership of another room).
    restricted_join_allowed: bool
    # v9+: redaction keeps `join_authorised_via_users_server` in m.room.member content.
    redaction_keeps_authorising_user: bool
    # v10+: the `knock_restricted` join rule.
    knock_restricted_allowed: bool
    # v10+: power level values must be integers (not strings holding integers).
    integer_power_levels: bool
    # v11+: the v11 redaction algorithm and m.room.create without `creator` (sender is creator).
    v11_redaction_and_creator: bool
    # v12+: room ID derived from the create event's reference hash; creators are privileged.
    room_id_from_create_event: bool
    # v1-v2: the auth rules check m.room.redaction against the redact level and event-ID domains
    # (v3+ leave that to "Handling redactions").
    redaction_checked_by_auth_rules: bool
    # v8+: redaction keeps `allow` in m.room.join_rules content.
    redaction_keeps_join_rules_allow: bool
    # v1-v5: power level values may be floats (truncated); v6+ enforce canonical JSON.
    float_power_levels: bool
    # v11+: m.room.create has no `creator`; the create event's sender is the creator.
    creator_is_create_sender: bool
    # v11+: m.room.redaction carries `redacts` in content instead of at the top level.
    redacts_in_content: bool
    # v1-v11: the m.room.create event is one of every other event's auth events.
    create_in_auth_events: bool
    # Highest `depth` a PDU may carry: 2**63 - 1 before v6, 2**53 - 1 (canonical JSON) after.
    max_depth: int

    @property
    def event_id_in_pdu(self) -> bool:
        """v1-v2: the PDU carries its own server-chosen `event_id`."""
        return self.event_id_format == "v1"


def _v(identifier: str, n: int) -> RoomVersion:
    return RoomVersion(
        identifier=identifier,
        event_id_format="v1" if n <= 2 else ("v3" if n == 3 else "v4"),
        special_case_aliases=n <= 5,
        strict_canonical_json=n >= 6,
        limit_notifications_power_levels=n >= 6,
        knock_allowed=n >= 7,
        restricted_join_allowed=n >= 8,
        redaction_keeps_authorising_user=n >= 9,
        knock_restricted_allowed=n >= 10,
        integer_power_levels=n >= 10,
        v11_redaction_and_creator=n >= 11,
        room_id_from_create_event=n >= 12,
        redaction_checked_by_auth_rules=n <= 2,
        redaction_keeps_join_rules_allow=n >= 8,
        float_power_levels=n <= 5,
        creator_is_create_sender=n >= 11,
        redacts_in_content=n >= 11,
        create_in_auth_events=n <= 11,
        max_depth=2**63 - 1 if n <= 5 else 2**53 - 1,
    )


KNOWN_ROOM_VERSIONS: dict[str, RoomVersion] = {str(n): _v(str(n), n) for n in range(1, 13)}

# The spec's recommended default for new rooms (content/rooms/_index.md).
DEFAULT_ROOM_VERSION = "12"


def get_room_version(identifier: str) -> RoomVersion:
    """The room version, or M_UNSUPPORTED_ROOM_VERSION."""
    version = KNOWN_ROOM_VERSIONS.get(identifier) if isinstance(identifier, str) else None
    if version is None:
        raise errors.UnsupportedRoomVersion(f"Room version {identifier!r} is not supported")
    return version


def capabilities() -> dict:
    """The m.room_versions capability: every version here is stable."""
    return {"default": DEFAULT_ROOM_VERSION,
            "available": {identifier: "stable" for identifier in KNOWN_ROOM_VERSIONS}}
