"""The m.room.member part of the authorization rules (rule "If type is m.room.member"),
for room versions 1-12: join, invite (including third-party invites), leave, ban and knock."""

from __future__ import annotations

from Crypto.Signature import eddsa

from ... import errors, identifiers
from .. import canonical
from . import event_format, power_levels
from .room_versions import RoomVersion


def membership_of(auth_state: dict, user_id: str) -> str | None:
    """The user's current membership (join, invite, leave, ban, knock) or None."""
    event = auth_state.get(("m.room.member", user_id))
    if event is None:
        return None
    content = event.get("content")
    return content.get("membership") if isinstance(content, dict) else None


def join_rule(auth_state: dict) -> str | None:
    event = auth_state.get(("m.room.join_rules", ""))
    content = event.get("content") if event is not None else None
    return content.get("join_rule") if isinstance(content, dict) else None


def check_member(version: RoomVersion, pdu: dict, content: dict, auth_state: dict,
                 signing_servers: set[str]) -> None:
    target = pdu.get("state_key")
    if not isinstance(target, str) or "membership" not in content:
        raise errors.Forbidden("A membership event needs a state_key and a membership")
    if version.restricted_join_allowed and "join_authorised_via_users_server" in content:
        authoriser = content["join_authorised_via_users_server"]
        if identifiers.server_of(authoriser) not in signing_servers:
            raise errors.Forbidden("The join is not signed by the server of the user who "
                                   "authorised it")
    membership = content["membership"]
    sender = pdu["sender"]
    if membership == "join":
        _check_join(version, pdu, content, auth_state, sender, target)
    elif membership == "invite":
        _check_invite(version, content, auth_state, sender, target)
    elif membership == "leave":
        _check_leave(version, auth_state, sender, target)
    elif membership == "ban":
        _check_ban(version, auth_state, sender, target)
    elif membership == "knock" and version.knock_allowed:
        _check_knock(version, auth_state, sender, target)
    else:
        raise errors.Forbidden(f"Unknown membership {membership!r}")


def _level(auth_state, user_id, version):
    return power_levels.user_level(auth_state, user_id, version)


def _creator_for_first_join(version: RoomVersion, create: dict) -> str | None:
    if version.creator_is_create_sender:
        return create.get("sender")
    content = create.get("content")
    return content.get("creator") if isinstance(content, dict) else None


def _is_creators_first_join(version, pdu, auth_state, target) -> bool:
    """"If the only previous event is an m.room.create and the state_key is the creator"."""
    create = auth_state.get(("m.room.create", ""))
    prev = event_format.event_ids_of(pdu.get("prev_events") or [])
    if create is None or len(prev) != 1 or target != _creator_for_first_join(version, create):
        return False
    return prev[0] == event_format.compute_event_id(create, version)


def _check_join(version, pdu, content, auth_state, sender, target) -> None:
    if _is_creators_first_join(version, pdu, auth_state, target):
        return
    if sender != target:
        raise errors.Forbidden("You cannot make another user join")
    current = membership_of(auth_state, sender)
    if current == "ban":
        raise errors.Forbidden("You are banned from this room")
    rule = join_rule(auth_state)
    if rule == "invite" or (rule == "knock" and version.knock_allowed):
        if current in ("invite", "join"):
            return
        raise errors.Forbidden("You are not invited to this room")
    if (rule == "restricted" and version.restricted_join_allowed) or (
            rule == "knock_restricted" and version.knock_restricted_allowed):
        if current in ("invite", "join"):
            return
        authoriser = content.get("join_authorised_via_users_server")
        if not isinstance(authoriser, str) or membership_of(auth_state, authoriser) != "join" \
                or _level(auth_state, authoriser, version) < power_levels.action_level(
                    auth_state, "invite", version):
            raise errors.Forbidden("You do not meet the room's join conditions, and no member "
                                   "able to invite authorised your join")
        return
    if rule == "public":
        return
    raise errors.Forbidden("You cannot join this room" if rule is None
                           else f"You cannot join a room whose join rule is {rule!r}")


def _check_invite(version, content, auth_state, sender, target) -> None:
    if "third_party_invite" in content:
        _check_third_party_invite(content["third_party_invite"], auth_state, sender, target)
        return
    if membership_of(auth_state, sender) != "join":
        raise errors.Forbidden("You must be in the room to invite")
    current = membership_of(auth_state, target)
    if current == "join":
        raise errors.Forbidden(f"{target} is already in the room")
    if current == "ban":
        raise errors.Forbidden(f"{target} is banned from the room")
    if _level(auth_state, sender, version) < power_levels.action_level(
            auth_state, "invite", version):
        raise errors.Forbidden("You do not have permission to invite users to this room")


def _check_third_party_invite(invite, auth_state, sender, target) -> None:
    if membership_of(auth_state, target) == "ban":
        raise errors.Forbidden(f"{target} is banned from the room")
    signed = invite.get("signed") if isinstance(invite, dict) else None
    if not isinstance(signed, dict):
        raise errors.Forbidden("third_party_invite has no signed object")
    if "mxid" not in signed or "token" not in signed:
        raise errors.Forbidden("third_party_invite.signed needs mxid and token")
    if signed["mxid"] != target:
        raise errors.Forbidden("third_party_invite.signed.mxid is not the invited user")
    token = signed["token"]
    room_invite = auth_state.get(("m.room.third_party_invite", token)) \
        if isinstance(token, str) else None
    if room_invite is None:
        raise errors.Forbidden("No m.room.third_party_invite event matches the token")
    if room_invite.get("sender") != sender:
        raise errors.Forbidden("Only the sender of the third-party invite may complete it")
    if signed_by_any(signed, _public_keys(room_invite.get("content"))):
        return
    raise errors.Forbidden("The third-party invite's signature does not match its public keys")


def _public_keys(content) -> list[str]:
    if not isinstance(content, dict):
        return []
    keys = [content["public_key"]] if isinstance(content.get("public_key"), str) else []
    for entry in content.get("public_keys") or []:
        if isinstance(entry, dict) and isinstance(entry.get("public_key"), str):
            keys.append(entry["public_key"])
    return keys


def signed_by_any(signed: dict, public_keys: list[str]) -> bool:
    """Whether any ed25519 signature in ``signed.signatures`` verifies with any of the keys
    (appendices "Checking for a signature": canonical JSON without signatures/unsigned)."""
    signatures = signed.get("signatures")
    if not isinstance(signatures, dict) or not public_keys:
        return False
    message = canonical.encode({k: v for k, v in signed.items()
                                if k not in ("signatures", "unsigned")})
    verifiers = []
    for key in public_keys:
        try:
            verifiers.append(eddsa.new(
                eddsa.import_public_key(canonical.decode_base64(key)), "rfc8032"))
        except (ValueError, TypeError):
            continue
    for by_key in signatures.values():
        if not isinstance(by_key, dict):
            continue
        for key_id, signature in by_key.items():
            if not (isinstance(key_id, str) and key_id.startswith("ed25519:")
                    and isinstance(signature, str)):
                continue
            try:
                raw = canonical.decode_base64(signature)
            except ValueError:
                continue
            for verifier in verifiers:
                try:
                    verifier.verify(message, raw)
                    return True
                except ValueError:
                    continue
    return False


def _check_leave(version, auth_state, sender, target) -> None:
    if sender == target:
        allowed = ("invite", "join", "knock") if version.knock_allowed else ("invite", "join")
        if membership_of(auth_state, sender) in allowed:
            return
        raise errors.Forbidden("You are not in this room")
    if membership_of(auth_state, sender) != "join":
        raise errors.Forbidden("You must be in the room to remove someone")
    sender_level = _level(auth_state, sender, version)
    if membership_of(auth_state, target) == "ban" and sender_level < power_levels.action_level(
            auth_state, "ban", version):
        raise errors.Forbidden("You do not have permission to unban users")
    if sender_level >= power_levels.action_level(auth_state, "kick", version) \
            and _level(auth_state, target, version) < sender_level:
        return
    raise errors.Forbidden(f"You do not have permission to kick {target}")


def _check_ban(version, auth_state, sender, target) -> None:
    if membership_of(auth_state, sender) != "join":
        raise errors.Forbidden("You must be in the room to ban someone")
    sender_level = _level(auth_state, sender, version)
    if sender_level >= power_levels.action_level(auth_state, "ban", version) \
            and _level(auth_state, target, version) < sender_level:
        return
    raise errors.Forbidden(f"You do not have permission to ban {target}")


def _check_knock(version, auth_state, sender, target) -> None:
    rule = join_rule(auth_state)
    if not (rule == "knock" or (rule == "knock_restricted" and version.knock_restricted_allowed)):
        raise errors.Forbidden("This room does not accept knocks")
    if sender != target:
        raise errors.Forbidden("You cannot knock on behalf of another user")
    current = membership_of(auth_state, sender)
    if current in ("ban", "invite", "join"):
        raise errors.Forbidden({"ban": "You are banned from this room",
                                "invite": "You are already invited to this room",
                                "join": "You are already in this room"}[current])
