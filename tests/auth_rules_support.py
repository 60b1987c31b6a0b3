"""A small room builder for the authorization-rule tables (tests/test_auth_rules*.py).

A ``Room`` holds real PDUs built by ``event_format.new_event`` in the version's format, so that
v12 room IDs, v1-v2 event IDs and the "only previous event is the create" rule are exercised
for real. Default room: creator (100; infinite in v12), @mod (50) and @alice (0) joined, join
rule public, standard power levels.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Callable

from Crypto.PublicKey import ECC
from Crypto.Signature import eddsa

from homeserver import errors
from homeserver.services import canonical
from homeserver.services.rooms import auth_rules, event_format
from homeserver.services.rooms.room_versions import KNOWN_ROOM_VERSIONS, RoomVersion

HS = "hs"
CREATOR, MOD, ALICE, BOB, CAROL = "@creator:hs", "@mod:hs", "@alice:hs", "@bob:hs", "@carol:hs"
EVE = "@eve:other"  # a user of another server

_KEEP = object()


def V(n: int) -> RoomVersion:
    return KNOWN_ROOM_VERSIONS[str(n)]


def default_power(version: RoomVersion, **overrides) -> dict:
    users = {MOD: 50}
    if not version.room_id_from_create_event:
        users[CREATOR] = 100
    content = {"users": users, "users_default": 0, "events": {}, "events_default": 0,
               "state_default": 50, "ban": 50, "kick": 50, "redact": 50, "invite": 0}
    content.update(overrides)
    return content


class Room:
    def __init__(self, version: RoomVersion, *, join_rule="public", power=_KEEP,
                 members: dict | None = None, create_content: dict | None = None,
                 creator: str = CREATOR, only_create: bool = False):
        self.version = version
        content = dict(create_content or {})
        if not version.creator_is_create_sender:
            content.setdefault("creator", creator)
        room_id = None if version.room_id_from_create_event else "!room:hs"
        self.create_id, create = event_format.new_event(
            version, room_id=room_id, sender=creator, event_type="m.room.create",
            content=content, state_key="", prev_event_ids=[], auth_event_ids=[], depth=1,
            origin_server_ts=1000, server_name=HS)
        self.room_id = room_id or event_format.room_id_for_create_event(self.create_id)
        self.state: dict = {("m.room.create", ""): create}
        if only_create:
            return
        if power is _KEEP:
            power = default_power(version)
        if power is not None:
            self.set_state("m.room.power_levels", "", power, sender=creator)
        if join_rule is not None:
            self.set_state("m.room.join_rules", "", {"join_rule": join_rule}, sender=creator)
        if members is None:
            members = {CREATOR: "join", MOD: "join", ALICE: "join"}
        for user, membership in members.items():
            self.set_state("m.room.member", user, {"membership": membership}, sender=user)

    def event(self, sender: str, event_type: str, content: dict | None = None, *,
              state_key: str | None = None, prev: list[str] | None = None,
              redacts: str | None = None, room_id: str | None = None) -> tuple[str, dict]:
        return event_format.new_event(
            self.version, room_id=room_id or self.room_id, sender=sender,
            event_type=event_type, content={} if content is None else content,
            state_key=state_key, prev_event_ids=["$previous:hs"] if prev is None else prev,
            auth_event_ids=[], depth=10, origin_server_ts=2000, server_name=HS,
            redacts=redacts)

    def member(self, sender: str, target: str, membership: str, **content) -> tuple[str, dict]:
        return self.event(sender, "m.room.member", {"membership": membership, **content},
                          state_key=target)

    def set_state(self, event_type: str, state_key: str, content: dict,
                  sender: str = CREATOR) -> None:
        _, pdu = self.event(sender, event_type, content, state_key=state_key)
        self.state[(event_type, state_key)] = pdu

    def check(self, event: tuple[str, dict], **kw) -> None:
        event_id, pdu = event
        auth_rules.check(self.version, pdu, self.state, event_id=event_id,
                         room_id=self.room_id, **kw)

    def allowed(self, event: tuple[str, dict], **kw) -> bool:
        try:
            self.check(event, **kw)
        except errors.Forbidden as exc:
            assert exc.errcode == "M_FORBIDDEN" and exc.status == 403 and exc.message
            return False
        return True


@dataclass
class Case:
    """One row: rule label, the versions it applies to, a scenario and the expected outcome.

    ``scenario(version)`` returns ``(room, event)`` or ``(room, event, check_kwargs)``."""
    rule: str
    versions: range
    scenario: Callable
    allowed: bool
    name: str = field(default="")


def run_case(case: Case, n: int) -> None:
    result = case.scenario(V(n))
    room, event, kwargs = result if len(result) == 3 else (*result, {})
    outcome = room.allowed(event, **kwargs)
    assert outcome is case.allowed, \
        f"v{n} rule {case.rule} {case.name}: expected {'allowed' if case.allowed else 'refused'}"


def params(cases: list[Case]) -> list:
    import pytest
    return [pytest.param(case, n, id=f"{case.rule}-{case.name}-v{n}")
            for case in cases for n in case.versions]


# --- third-party invites: an ed25519 key and signed objects ---------------------------------------

class InviteKey:
    def __init__(self):
        self._key = ECC.generate(curve="ed25519")
        self.public = base64.b64encode(
            self._key.public_key().export_key(format="raw")).decode().rstrip("=")

    def sign(self, signed: dict, server: str = "id.example") -> dict:
        message = canonical.encode({k: v for k, v in signed.items() if k != "signatures"})
        signature = eddsa.new(self._key, "rfc8032").sign(message)
        return {**signed, "signatures": {
            server: {"ed25519:0": base64.b64encode(signature).decode().rstrip("=")}}}
