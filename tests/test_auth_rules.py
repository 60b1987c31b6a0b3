"""Authorization rules, table-driven: create, v12 room ID, auth events, m.federate, aliases,
membership-required, third-party-invite events, required power level, user-ID state keys,
power levels changes and v1-v2 redactions. Each rule has an allowed and a refused row for
every version it exists in. (Membership rules: test_auth_rules_membership.py.)"""

from __future__ import annotations

import pytest

from auth_rules_support import (ALICE, BOB, CREATOR, EVE, MOD, Case, Room, V, default_power,
                                params, run_case)
from homeserver.services.rooms import auth_rules

ALL = range(1, 13)


def create_event(v, content=None, prev=None, room_id=None, sender=CREATOR):
    """A fresh m.room.create PDU to authorise (not part of any room's state)."""
    room = Room(v, only_create=True)
    content = {} if content is None else content
    if not v.creator_is_create_sender:
        content.setdefault("creator", sender)
    pdu = {"type": "m.room.create", "state_key": "", "sender": sender, "content": content,
           "prev_events": prev or [], "auth_events": [], "depth": 1, "origin_server_ts": 1,
           "hashes": {"sha256": "x"}, "signatures": {}}
    if not v.room_id_from_create_event:
        pdu["room_id"] = room_id or "!new:hs"
    elif room_id is not None:
        pdu["room_id"] = room_id
    return room, ("$create:hs", pdu)


def _without_create(v):
    room = Room(v)
    del room.state[("m.room.create", "")]
    return room, room.event(ALICE, "m.room.message", {"body": "hi"})


def _federate(v, federate):
    room = Room(v, create_content={"m.federate": federate},
                members={CREATOR: "join", EVE: "join"})
    return room, room.event(EVE, "m.room.message", {"body": "hi"})


def _explicit_auth(v, extra=None, drop_create=False):
    room = Room(v)
    event = room.event(ALICE, "m.room.message", {"body": "hi"})
    keys = auth_rules.auth_event_keys(v, "m.room.message", None, ALICE, {})
    chosen = [room.state[k] for k in keys if k in room.state]
    if drop_create:
        chosen = [e for e in chosen if e["type"] != "m.room.create"]
    return room, event, {"auth_events": chosen + (extra or [])}


def _auth_event_from_other_room(v):
    room = Room(v)
    member = dict(room.state[("m.room.member", ALICE)], room_id="!elsewhere:hs")
    room.state[("m.room.member", ALICE)] = member
    return room, room.event(ALICE, "m.room.message", {"body": "hi"})


def _power(v, sender, content, before=None):
    room = Room(v, power=default_power(v) if before is None else before)
    return room, room.event(sender, "m.room.power_levels", content, state_key="")


def _changed(v, sender=MOD, before=None, **changes):
    base = default_power(v) if before is None else before
    return _power(v, sender, {**base, **changes}, before=base)


def _float_user_level(v):
    """A power levels event received with a float level (this server never creates one)."""
    room, (event_id, pdu) = _changed(v, CREATOR, users={**default_power(v)["users"], ALICE: 10})
    pdu["content"]["users"][ALICE] = 10.7
    return room, (event_id, pdu)


def _first_power(v, content):
    room = Room(v, power=None)
    return room, room.event(CREATOR, "m.room.power_levels", content, state_key="")


def _redaction(v, sender, target_id):
    room = Room(v)
    return room, room.event(sender, "m.room.redaction", {}, redacts=target_id)


CASES = [
    # 1. m.room.create
    Case("create", ALL, lambda v: create_event(v), True, "plain"),
    Case("create.prev_events", ALL, lambda v: create_event(v, prev=["$x:hs"]), False, "has-prev"),
    Case("create.room_id-domain", range(1, 12),
         lambda v: create_event(v, room_id="!new:other"), False, "foreign-room-domain"),
    Case("create.room_id-domain", range(1, 12),
         lambda v: create_event(v, room_id="!new:hs"), True, "own-room-domain"),
    Case("create.room_id-present", range(12, 13),
         lambda v: create_event(v, room_id="!new:hs"), False, "has-room-id"),
    Case("create.room_version", ALL, lambda v: create_event(v, {"room_version": "99"}), False,
         "unknown"),
    Case("create.room_version", ALL, lambda v: create_event(v, {"room_version": "5"}), True,
         "known"),
    Case("create.creator", range(1, 11), lambda v: _create_without_creator(v), False, "missing"),
    Case("create.creator", range(11, 13), lambda v: _create_without_creator(v), True,
         "not-needed"),
    Case("create.additional_creators", range(12, 13),
         lambda v: create_event(v, {"additional_creators": ["@second:hs", "@x:other"]}), True,
         "valid"),
    Case("create.additional_creators", range(12, 13),
         lambda v: create_event(v, {"additional_creators": ["not a user"]}), False, "invalid-id"),
    Case("create.additional_creators", range(12, 13),
         lambda v: create_event(v, {"additional_creators": "@second:hs"}), False, "not-a-list"),
    # v12 rule 2: the room ID is the create event's ID.
    Case("room_id-is-create", range(12, 13),
         lambda v: (lambda r: (r, r.event(ALICE, "m.room.message", {"body": "x"},
                                          room_id="!" + "A" * 43)))(Room(v)), False, "wrong"),
    Case("room_id-is-create", range(12, 13),
         lambda v: (lambda r: (r, r.event(ALICE, "m.room.message", {"body": "x"})))(Room(v)),
         True, "right"),
    # 2. auth events
    Case("auth_events.create-missing", ALL, _without_create, False, "no-create"),
    Case("auth_events.explicit", ALL, lambda v: _explicit_auth(v), True, "selected"),
    Case("auth_events.duplicate", ALL,
         lambda v: (lambda r, e, kw: (r, e, {"auth_events": kw["auth_events"]
                                             + [r.state[("m.room.member", ALICE)]]}))(
             *_explicit_auth(v)), False, "duplicate"),
    Case("auth_events.not-selected", ALL,
         lambda v: (lambda r, e, kw: (r, e, {"auth_events": kw["auth_events"]
                                             + [r.state[("m.room.join_rules", "")]]}))(
             *_explicit_auth(v)), False, "join-rules-for-message"),
    Case("auth_events.create-missing", range(1, 12), lambda v: _explicit_auth(v, drop_create=True),
         False, "explicit-no-create"),
    Case("auth_events.create-not-selected", range(12, 13),
         lambda v: (lambda r, e, kw: (r, e, {"auth_events": kw["auth_events"]
                                             + [r.state[("m.room.create", "")]]}))(
             *_explicit_auth(v)), False, "v12-create-listed"),
    Case("auth_events.room_id", ALL, _auth_event_from_other_room, False, "other-room"),
    # 3. m.federate
    Case("m.federate", ALL, lambda v: _federate(v, False), False, "foreign-sender"),
    Case("m.federate", ALL, lambda v: _federate(v, True), True, "federating"),
    Case("m.federate", ALL,
         lambda v: (lambda r: (r, r.event(ALICE, "m.room.message", {"body": "x"})))(
             Room(v, create_content={"m.federate": False})), True, "local-sender"),
    # 4. m.room.aliases (v1-v5 only)
    Case("aliases", range(1, 6),
         lambda v: (lambda r: (r, r.event(BOB, "m.room.aliases", {"aliases": ["#a:hs"]},
                                          state_key="hs")))(Room(v)), True, "own-domain"),
    Case("aliases", range(1, 6),
         lambda v: (lambda r: (r, r.event(BOB, "m.room.aliases", {"aliases": []},
                                          state_key="other")))(Room(v)), False, "other-domain"),
    Case("aliases", range(1, 6),
         lambda v: (lambda r: (r, r.event(BOB, "m.room.aliases", {"aliases": []})))(Room(v)),
         False, "no-state-key"),
    Case("aliases", range(6, 13),
         lambda v: (lambda r: (r, r.event(BOB, "m.room.aliases", {"aliases": ["#a:hs"]},
                                          state_key="hs")))(Room(v)), False, "no-special-case"),
    Case("aliases", range(6, 13),
         lambda v: (lambda r: (r, r.event(MOD, "m.room.aliases", {"aliases": ["#a:hs"]},
                                          state_key="hs")))(Room(v)), True, "as-state-event"),
    # sender must be joined
    Case("sender-joined", ALL,
         lambda v: (lambda r: (r, r.event(BOB, "m.room.message", {"body": "x"})))(Room(v)),
         False, "outsider"),
    Case("sender-joined", ALL,
         lambda v: (lambda r: (r, r.event(ALICE, "m.room.message", {"body": "x"})))(
             Room(v, members={CREATOR: "join", ALICE: "invite"})), False, "invited-only"),
    Case("sender-joined", ALL,
         lambda v: (lambda r: (r, r.event(ALICE, "m.room.message", {"body": "x"})))(Room(v)),
         True, "member"),
    # m.room.third_party_invite events
    Case("third_party_invite-event", ALL,
         lambda v: (lambda r: (r, r.event(ALICE, "m.room.third_party_invite", {"x": 1},
                                          state_key="tok")))(Room(v)), True, "invite-level-0"),
    Case("third_party_invite-event", ALL,
         lambda v: (lambda r: (r, r.event(ALICE, "m.room.third_party_invite", {"x": 1},
                                          state_key="tok")))(
             Room(v, power=default_power(v, invite=50))), False, "below-invite-level"),
    # required power level
    Case("required-level", ALL,
         lambda v: (lambda r: (r, r.event(ALICE, "m.room.topic", {"topic": "t"},
                                          state_key="")))(Room(v)), False, "state-default"),
    Case("required-level", ALL,
         lambda v: (lambda r: (r, r.event(MOD, "m.room.topic", {"topic": "t"},
                                          state_key="")))(Room(v)), True, "moderator"),
    Case("required-level", ALL,
         lambda v: (lambda r: (r, r.event(MOD, "m.room.name", {"name": "n"}, state_key="")))(
             Room(v, power=default_power(v, events={"m.room.name": 51}))), False, "events-entry"),
    Case("required-level", ALL,
         lambda v: (lambda r: (r, r.event(ALICE, "m.room.message", {"body": "x"})))(
             Room(v, power=default_power(v, events_default=1))), False, "events-default"),
    Case("required-level", ALL,
         lambda v: (lambda r: (r, r.event(CREATOR, "m.room.message", {"body": "x"})))(
             Room(v, power=default_power(v, events_default=100))), True, "creator"),
    Case("required-level", ALL,
         lambda v: (lambda r: (r, r.event(CREATOR, "m.room.topic", {"topic": "x"},
                                          state_key="")))(Room(v, power=None)), True,
         "no-power-levels-creator"),
    Case("required-level", ALL,
         lambda v: (lambda r: (r, r.event(ALICE, "m.room.topic", {"topic": "x"},
                                          state_key="")))(Room(v, power=None)), False,
         "no-power-levels-other"),
    # state keys that are user IDs
    Case("user-state-key", ALL,
         lambda v: (lambda r: (r, r.event(ALICE, "m.custom", {}, state_key=MOD)))(
             Room(v, power=default_power(v, state_default=0))), False, "someone-else"),
    Case("user-state-key", ALL,
         lambda v: (lambda r: (r, r.event(ALICE, "m.custom", {}, state_key=ALICE)))(
             Room(v, power=default_power(v, state_default=0))), True, "own"),
    # otherwise allow
    Case("otherwise", ALL,
         lambda v: (lambda r: (r, r.event(ALICE, "m.room.message", {"body": "x"})))(Room(v)),
         True, "message"),
]


def _create_without_creator(v):
    room, (event_id, pdu) = create_event(v)
    pdu["content"].pop("creator", None)
    return room, (event_id, pdu)


POWER_CASES = [
    # value validation
    Case("pl.integers", range(10, 13), lambda v: _changed(v, CREATOR, ban="50"), False,
         "string-ban"),
    Case("pl.integers", range(1, 10), lambda v: _changed(v, CREATOR, ban="50"), True,
         "stringy-ban"),
    Case("pl.integers", range(10, 13), lambda v: _changed(v, CREATOR, events={"m.x": "5"}),
         False, "string-events"),
    Case("pl.integers", range(10, 13), lambda v: _changed(v, CREATOR, notifications=[1]),
         False, "notifications-not-object"),
    Case("pl.integers", range(10, 13),
         lambda v: _changed(v, CREATOR, notifications={"room": 20}, events={"m.x": 5}), True,
         "integers"),
    Case("pl.users", ALL, lambda v: _changed(v, CREATOR, users=[ALICE]), False, "not-object"),
    Case("pl.users", ALL,
         lambda v: _changed(v, CREATOR, users={**default_power(v)["users"], "alice": 5}), False,
         "invalid-user-id"),
    Case("pl.users", ALL,
         lambda v: _changed(v, CREATOR, users={**default_power(v)["users"], ALICE: "abc"}),
         False, "not-a-number"),
    Case("pl.users", range(1, 10),
         lambda v: _changed(v, CREATOR, users={**default_power(v)["users"], ALICE: " 10 "}),
         True, "stringy-value"),
    Case("pl.users", range(10, 13),
         lambda v: _changed(v, CREATOR, users={**default_power(v)["users"], ALICE: "10"}),
         False, "string-value"),
    Case("pl.users", range(1, 6), lambda v: _float_user_level(v), True, "float-value"),
    Case("pl.users", range(6, 13), lambda v: _float_user_level(v), False, "float-value"),
    Case("pl.creators-not-in-users", range(12, 13),
         lambda v: _changed(v, CREATOR, users={CREATOR: 100, MOD: 50}), False, "creator"),
    Case("pl.creators-not-in-users", range(12, 13),
         lambda v: (lambda r: (r, r.event(CREATOR, "m.room.power_levels",
                                          default_power(v, users={"@second:hs": 1}),
                                          state_key="")))(
             Room(v, create_content={"additional_creators": ["@second:hs"]})), False,
         "additional-creator"),
    # first power levels event
    Case("pl.first", ALL, lambda v: _first_power(v, {"users": {ALICE: 100}, "ban": 99}), True,
         "anything-goes"),
    # top-level levels
    Case("pl.levels", ALL, lambda v: _changed(v, ban=40, kick=50), True, "within-own-level"),
    Case("pl.levels", ALL, lambda v: _changed(v, ban=60), False, "new-above-own"),
    Case("pl.levels", ALL,
         lambda v: _changed(v, before=default_power(v, kick=60), kick=50), False,
         "current-above-own"),
    Case("pl.levels", ALL,
         lambda v: _power(v, MOD, {k: x for k, x in default_power(v, invite=70).items()
                                   if k != "invite"}, before=default_power(v, invite=70)),
         False, "remove-above-own"),
    Case("pl.levels", ALL,
         lambda v: _changed(v, before=default_power(v, redact=70), kick=50, redact=70), True,
         "unchanged-high-value"),
    # events
    Case("pl.events", ALL, lambda v: _changed(v, events={"m.room.name": 50}), True, "add-at-own"),
    Case("pl.events", ALL, lambda v: _changed(v, events={"m.room.name": 51}), False,
         "add-above-own"),
    Case("pl.events", ALL,
         lambda v: _changed(v, before=default_power(v, events={"m.room.tombstone": 100}),
                            events={}), False, "remove-above-own"),
    Case("pl.events", ALL,
         lambda v: _changed(v, before=default_power(v, events={"m.room.tombstone": 100,
                                                               "m.room.name": 50}),
                            events={"m.room.tombstone": 100}), True, "remove-own-level"),
    # notifications (v6+)
    Case("pl.notifications", range(6, 13),
         lambda v: _changed(v, notifications={"room": 60}), False, "above-own"),
    Case("pl.notifications", range(1, 6),
         lambda v: _changed(v, notifications={"room": 60}), True, "unchecked-before-v6"),
    Case("pl.notifications", range(6, 13),
         lambda v: _changed(v, notifications={"room": 20}), True, "within-own"),
    Case("pl.notifications", range(6, 13),
         lambda v: _changed(v, before=default_power(v, notifications={"room": 90}),
                            notifications={"room": 20}), False, "current-above-own"),
    # users
    Case("pl.users-change", ALL,
         lambda v: _changed(v, users={**default_power(v)["users"], ALICE: 50}), True,
         "promote-to-own"),
    Case("pl.users-change", ALL,
         lambda v: _changed(v, users={**default_power(v)["users"], ALICE: 51}), False,
         "promote-above-own"),
    Case("pl.users-change", ALL,
         lambda v: _changed(v, before=default_power(v, users={**default_power(v)["users"],
                                                              BOB: 50}),
                            users=default_power(v)["users"]), False, "demote-equal"),
    Case("pl.users-change", ALL,
         lambda v: _changed(v, users={**default_power(v)["users"], MOD: 10}), True,
         "demote-self"),
    Case("pl.users-change", ALL,
         lambda v: _changed(v, CREATOR, users={k: x for k, x in default_power(v)["users"].items()
                                               if k != MOD}), True, "creator-demotes-mod"),
    Case("pl.users-change", range(1, 12),
         lambda v: _changed(v, users={MOD: 50, CREATOR: 10}), False, "demote-creator"),
    Case("pl.users-change", range(12, 13),
         lambda v: _changed(v, users={MOD: 50, CREATOR: 10}), False, "name-creator-v12"),
    Case("pl.users-change", ALL,
         lambda v: _changed(v, ALICE, users={**default_power(v)["users"], ALICE: 0}), False,
         "member-cannot-send-power-levels"),
]


REDACTION_CASES = [
    Case("redaction.v1-v2", range(1, 3), lambda v: _redaction(v, ALICE, "$target:other"), False,
         "foreign-event-no-power"),
    Case("redaction.v1-v2", range(1, 3), lambda v: _redaction(v, ALICE, "$target:hs"), True,
         "same-domain"),
    Case("redaction.v1-v2", range(1, 3), lambda v: _redaction(v, MOD, "$target:other"), True,
         "redact-level"),
    Case("redaction.v3+", range(3, 13), lambda v: _redaction(v, ALICE, "$targetotherserver"),
         True, "not-an-auth-rule"),
    Case("redaction.v3+", range(3, 13),
         lambda v: (lambda r: (r, r.event(ALICE, "m.room.redaction", {}, redacts="$t")))(
             Room(v, power=default_power(v, events={"m.room.redaction": 10}))), False,
         "events-level"),
]


@pytest.mark.parametrize("case,n", params(CASES + POWER_CASES + REDACTION_CASES))
def test_rule(case, n):
    run_case(case, n)


def test_every_rule_has_an_allowed_and_a_refused_row_per_version():
    from test_auth_rules_membership import CASES as MEMBER_CASES
    outcomes: dict = {}
    for case in CASES + POWER_CASES + REDACTION_CASES + MEMBER_CASES:
        group = case.rule.split(".")[0]
        for n in case.versions:
            outcomes.setdefault((group, n), set()).add(case.allowed)
    # "Otherwise, allow" has nothing to refuse.
    missing = [k for k, seen in outcomes.items()
               if seen != {True, False} and k[0] != "otherwise"]
    assert not missing


def test_forbidden_reasons_are_readable():
    room = Room(V(12))
    with pytest.raises(Exception) as info:
        room.check(room.event(ALICE, "m.room.topic", {"topic": "t"}, state_key=""))
    assert "m.room.topic" in info.value.message and "50" in info.value.message


def test_auth_event_keys_selection():
    v = V(10)
    assert auth_rules.auth_event_keys(v, "m.room.create", "", CREATOR, {}) == []
    assert auth_rules.auth_event_keys(v, "m.room.message", None, ALICE, {}) == [
        ("m.room.create", ""), ("m.room.power_levels", ""), ("m.room.member", ALICE)]
    assert auth_rules.auth_event_keys(
        v, "m.room.member", BOB, ALICE,
        {"membership": "invite", "third_party_invite": {"signed": {"token": "tok"}}}) == [
        ("m.room.create", ""), ("m.room.power_levels", ""), ("m.room.member", ALICE),
        ("m.room.member", BOB), ("m.room.join_rules", ""), ("m.room.third_party_invite", "tok")]
    assert auth_rules.auth_event_keys(v, "m.room.member", ALICE, ALICE, {"membership": "leave"}) \
        == [("m.room.create", ""), ("m.room.power_levels", ""), ("m.room.member", ALICE)]
    join = {"membership": "join", "join_authorised_via_users_server": MOD}
    assert ("m.room.member", MOD) in auth_rules.auth_event_keys(v, "m.room.member", ALICE,
                                                                ALICE, join)
    assert ("m.room.member", MOD) not in auth_rules.auth_event_keys(V(7), "m.room.member",
                                                                    ALICE, ALICE, join)
    assert ("m.room.create", "") not in auth_rules.auth_event_keys(V(12), "m.room.message",
                                                                   None, ALICE, {})
    knock = auth_rules.auth_event_keys(v, "m.room.member", ALICE, ALICE, {"membership": "knock"})
    assert ("m.room.join_rules", "") in knock


def test_may_redact():
    room = Room(V(11))
    assert auth_rules.may_redact(V(11), room.state, ALICE, ALICE)
    assert not auth_rules.may_redact(V(11), room.state, ALICE, MOD)
    assert auth_rules.may_redact(V(11), room.state, MOD, ALICE)
    room12 = Room(V(12), power=default_power(V(12), redact=100))
    assert auth_rules.may_redact(V(12), room12.state, CREATOR, MOD)
