"""The authorization rules of room versions 1-12 (content/rooms/vN.md "Authorisation rules").

``check`` walks one version's numbered rule list and raises ``errors.Forbidden`` with a reason a
person can read when the event is refused; it returns None when it is allowed. Pure: the caller
passes the room state the event extends (``auth_state``: ``{(type, state_key): pdu}``), which
may be the whole current state or just the event's selected auth events.

Membership rules live in ``auth_rules_membership``, the power-levels change rule in
``auth_rules_power_levels``; this module holds the rule list itself and auth-event selection.
"""

from __future__ import annotations

from ... import errors, identifiers
from . import event_format, power_levels
from .auth_rules_membership import check_member, membership_of
from .auth_rules_power_levels import check_power_levels
from .room_versions import KNOWN_ROOM_VERSIONS, RoomVersion

CREATE_KEY = ("m.room.create", "")


def auth_event_keys(version: RoomVersion, event_type: str, state_key: str | None, sender: str,
                    content: dict) -> list[tuple[str, str]]:
    """The (type, state_key) pairs whose current state events are the event's auth events
    (server-server "Auth events selection"); the caller keeps those present in the state."""
    if event_type == "m.room.create":
        return []
    keys: list[tuple[str, str]] = []
    if version.create_in_auth_events:
        keys.append(CREATE_KEY)
    keys.append(("m.room.power_levels", ""))
    keys.append(("m.room.member", sender))
    if event_type == "m.room.member" and isinstance(content, dict):
        membership = content.get("membership")
        if isinstance(state_key, str):
            keys.append(("m.room.member", state_key))
        if membership in ("join", "invite", "knock"):
            keys.append(("m.room.join_rules", ""))
        if membership == "invite":
            token = _third_party_invite_token(content)
            if token is not None:
                keys.append(("m.room.third_party_invite", token))
        authoriser = content.get("join_authorised_via_users_server")
        if (membership == "join" and version.restricted_join_allowed
                and isinstance(authoriser, str)):
            keys.append(("m.room.member", authoriser))
    return list(dict.fromkeys(keys))  # without duplicates, in order


def _third_party_invite_token(content: dict) -> str | None:
    invite = content.get("third_party_invite")
    signed = invite.get("signed") if isinstance(invite, dict) else None
    token = signed.get("token") if isinstance(signed, dict) else None
    return token if isinstance(token, str) else None


def check(version: RoomVersion, pdu: dict, auth_state: dict[tuple[str, str], dict], *,
          event_id: str, room_id: str, auth_events: list[dict] | None = None,
          signing_servers: set[str] | None = None) -> None:
    """Raise errors.Forbidden unless ``version``'s authorization rules allow ``pdu``.

    ``auth_events``: the PDUs the event lists in its `auth_events`, when the caller has them;
    the rules about them (duplicates, selection, room IDs) are then checked against that list,
    otherwise against the selection drawn from ``auth_state`` (which satisfies the first two by
    construction). Events this server stores were accepted, so none of them is "rejected".

    ``signing_servers``: the servers whose valid signatures the event carries; by default the
    sender's server, which creates (and would sign) every event this server builds.
    """
    event_type = pdu.get("type")
    sender = pdu.get("sender")
    content = pdu.get("content")
    if not isinstance(event_type, str) or not isinstance(sender, str):
        raise errors.Forbidden("The event has no type or no sender")
    if not isinstance(content, dict):
        raise errors.Forbidden("The event's content must be an object")
    if signing_servers is None:
        signing_servers = {identifiers.server_of(sender)}

    if event_type == "m.room.create":
        _check_create(version, pdu, content, sender)
        return

    if "room_id" in pdu and pdu["room_id"] != room_id:
        raise errors.Forbidden("The event belongs to another room")
    if version.room_id_from_create_event:
        _check_v12_room_id(version, auth_state, room_id)
    _check_auth_events(version, pdu, content, auth_state, room_id, auth_events)

    create = auth_state.get(CREATE_KEY)
    create_content = create.get("content") if create is not None else None
    if (isinstance(create_content, dict) and create_content.get("m.federate") is False
            and identifiers.server_of(sender) != identifiers.server_of(create.get("sender"))):
        raise errors.Forbidden("This room does not federate; only users of the server that "
                               "created it may take part")

    if event_type == "m.room.aliases" and version.special_case_aliases:
        state_key = pdu.get("state_key")
        if not isinstance(state_key, str):
            raise errors.Forbidden("An m.room.aliases event needs a state_key")
        if identifiers.server_of(sender) != state_key:
            raise errors.Forbidden("The state_key of m.room.aliases must be the sender's server")
        return

    if event_type == "m.room.member":
        check_member(version, pdu, content, auth_state, signing_servers)
        return

    if membership_of(auth_state, sender) != "join":
        raise errors.Forbidden(f"{sender} is not in the room")

    sender_level = power_levels.user_level(auth_state, sender, version)
    if event_type == "m.room.third_party_invite":
        if sender_level < power_levels.action_level(auth_state, "invite", version):
            raise errors.Forbidden("You do not have permission to invite users to this room")
        return

    is_state = "state_key" in pdu
    required = power_levels.event_level(auth_state, event_type, is_state, version)
    if required > sender_level:
        raise errors.Forbidden(f"Sending {event_type} events requires power level {required}; "
                               f"yours is {_show(sender_level)}")

    state_key = pdu.get("state_key")
    if isinstance(state_key, str) and state_key.startswith("@") and state_key != sender:
        raise errors.Forbidden("A state_key that is a user ID must be your own")

    if event_type == "m.room.power_levels":
        check_power_levels(version, pdu, content, auth_state, sender_level)
        return

    if event_type == "m.room.redaction" and version.redaction_checked_by_auth_rules:
        if sender_level >= power_levels.action_level(auth_state, "redact", version):
            return
        redacts = pdu.get("redacts")
        if (isinstance(redacts, str) and identifiers.server_of(redacts) is not None
                and identifiers.server_of(redacts) == identifiers.server_of(event_id)):
            return
        raise errors.Forbidden("You do not have permission to redact this event")


def _show(level) -> str:
    return "infinite (room creator)" if level == power_levels.CREATOR_POWER else str(level)


def _check_create(version: RoomVersion, pdu: dict, content: dict, sender: str) -> None:
    if pdu.get("prev_events"):
        raise errors.Forbidden("The m.room.create event cannot have previous events")
    if version.room_id_from_create_event:
        if "room_id" in pdu:
            raise errors.Forbidden("In this room version the m.room.create event has no room_id")
    elif identifiers.server_of(pdu.get("room_id")) != identifiers.server_of(sender):
        raise errors.Forbidden("The room ID's server must be the creator's server")
    if "room_version" in content and content["room_version"] not in KNOWN_ROOM_VERSIONS:
        raise errors.Forbidden(f"Unknown room version {content['room_version']!r}")
    if not version.creator_is_create_sender and "creator" not in content:
        raise errors.Forbidden("The m.room.create event needs a creator")
    if version.room_id_from_create_event and "additional_creators" in content:
        extra = content["additional_creators"]
        if not isinstance(extra, list) or not all(
                isinstance(u, str) and identifiers.is_valid_user_id(u) for u in extra):
            raise errors.Forbidden("additional_creators must be a list of user IDs")


def _check_v12_room_id(version: RoomVersion, auth_state: dict, room_id: str) -> None:
    create = auth_state.get(CREATE_KEY)
    if create is None:
        raise errors.Forbidden("The room has no m.room.create event")
    create_id = event_format.compute_event_id(create, version)
    if room_id != event_format.room_id_for_create_event(create_id):
        raise errors.Forbidden("The room ID is not the ID of the room's m.room.create event")


def _check_auth_events(version: RoomVersion, pdu: dict, content: dict, auth_state: dict,
                       room_id: str, auth_events: list[dict] | None) -> None:
    allowed = set(auth_event_keys(version, pdu["type"], pdu.get("state_key"), pdu["sender"],
                                  content))
    if auth_events is None:
        chosen = [auth_state[key] for key in allowed if key in auth_state]
    else:
        chosen = auth_events
        seen: set[tuple] = set()
        for event in auth_events:
            key = (event.get("type"), event.get("state_key"))
            if key in seen:
                raise errors.Forbidden(f"Duplicate auth event for {key}")
            seen.add(key)
            if key not in allowed:
                raise errors.Forbidden(f"Auth event {key} does not authorise this event")
    if version.create_in_auth_events and not any(
            e.get("type") == "m.room.create" and e.get("state_key") == "" for e in chosen):
        raise errors.Forbidden("The room has no m.room.create event")
    for event in chosen:
        if "room_id" in event and event["room_id"] != room_id:
            raise errors.Forbidden("An auth event belongs to another room")


def may_redact(version: RoomVersion, auth_state: dict, sender: str,
               original_sender: str) -> bool:
    """Whether a redaction by ``sender`` of an event sent by ``original_sender`` takes effect
    (rooms/v3 "Handling redactions" and the client-server redaction rule): own events, or
    anyone's with the redact level."""
    if sender == original_sender:
        return True
    level = power_levels.user_level(auth_state, sender, version)
    return level >= power_levels.action_level(auth_state, "redact", version)
