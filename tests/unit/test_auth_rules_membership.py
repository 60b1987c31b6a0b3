"""Authorization rules for m.room.member, table-driven over room versions 1-12: join (first
join, invite/knock/restricted/knock_restricted/public rules), invite (with third-party
invites), leave (including kicks and unbans), ban, knock and unknown memberships."""

from __future__ import annotations

import pytest

from helpers.auth_rules import (ALICE, BOB, CAROL, CREATOR, MOD, Case, InviteKey, Room, V,
                                default_power, params, run_case)

ALL = range(1, 13)
ADMIN_ELSEWHERE = "@admin:other"
SECOND = "@second:hs"
_KEY = InviteKey()
_OTHER_KEY = InviteKey()


def m(v, sender, target, membership, *, join_rule="public", members=None, power=None,
      room_kw=None, **content):
    """A room (default members creator/mod/alice joined, plus ``members``) and a member event."""
    everyone = {CREATOR: "join", MOD: "join", ALICE: "join"}
    everyone.update(members or {})
    kwargs = dict(room_kw or {})
    if power is not None:
        kwargs["power"] = power
    room = Room(v, join_rule=join_rule, members=everyone, **kwargs)
    return room, room.member(sender, target, membership, **content)


def first_join(v, joiner, prev_is_create=True, creator_field=None):
    create_content = {"creator": creator_field} if creator_field else None
    room = Room(v, only_create=True, create_content=create_content)
    prev = [room.create_id] if prev_is_create else ["$somethingelse:hs"]
    event = room.event(joiner, "m.room.member", {"membership": "join"}, state_key=joiner,
                       prev=prev)
    return room, event


def restricted(v, rule, authoriser=None, members=None, power=None, signing_servers=None):
    content = {} if authoriser is None else {"join_authorised_via_users_server": authoriser}
    room, event = m(v, BOB, BOB, "join", join_rule=rule, members=members, power=power,
                    **content)
    return (room, event) if signing_servers is None else \
        (room, event, {"signing_servers": signing_servers})


def tpi(v, *, signed=None, key=_KEY, sender=ALICE, target=BOB, token="tok", room_token="tok",
        members=None, keys_field="public_key", drop=()):
    everyone = {CREATOR: "join", MOD: "join", ALICE: "join"}
    everyone.update(members or {})
    room = Room(v, members=everyone)
    invite_content = {"display_name": "b...@example.com"}
    if keys_field == "public_key":
        invite_content["public_key"] = _KEY.public
    else:
        invite_content["public_keys"] = [{"public_key": _OTHER_KEY.public},
                                         {"public_key": _KEY.public}]
    room.set_state("m.room.third_party_invite", room_token, invite_content, sender=ALICE)
    if signed is None:
        signed = {"mxid": target, "token": token, "sender": ALICE}
        for k in drop:
            signed.pop(k)
        signed = key.sign(signed)
    third_party_invite = {"display_name": "b...@example.com"}
    if signed is not False:
        third_party_invite["signed"] = signed
    return room, room.member(sender, target, "invite", third_party_invite=third_party_invite)


CASES = [
    # shape of the event
    Case("member.shape", ALL, lambda v: (lambda r: (r, r.event(ALICE, "m.room.member", {},
                                                               state_key=ALICE)))(Room(v)),
         False, "no-membership"),
    Case("member.shape", ALL,
         lambda v: (lambda r: (r, r.event(ALICE, "m.room.member", {"membership": "join"})))(
             Room(v)), False, "no-state-key"),
    Case("member.shape", ALL, lambda v: m(v, ALICE, ALICE, "join"), True, "rejoin"),
    Case("member.unknown", ALL, lambda v: m(v, ALICE, ALICE, "dance"), False, "dance"),
    Case("member.unknown", range(1, 7),
         lambda v: m(v, BOB, BOB, "knock", join_rule="knock"), False, "knock-before-v7"),
    # v8+: join_authorised_via_users_server must be signed by that user's server
    Case("member.authoriser-signed", range(8, 13),
         lambda v: restricted(v, "restricted", ADMIN_ELSEWHERE, members={ADMIN_ELSEWHERE: "join"},
                              power=default_power(v, users={**default_power(v)["users"],
                                                            ADMIN_ELSEWHERE: 50})),
         False, "not-signed-by-authoriser"),
    Case("member.authoriser-signed", range(8, 13),
         lambda v: restricted(v, "restricted", ADMIN_ELSEWHERE, members={ADMIN_ELSEWHERE: "join"},
                              power=default_power(v, users={**default_power(v)["users"],
                                                            ADMIN_ELSEWHERE: 50}),
                              signing_servers={"hs", "other"}), True, "signed"),
    Case("member.authoriser-signed", range(1, 8),
         lambda v: m(v, BOB, BOB, "join", join_authorised_via_users_server=ADMIN_ELSEWHERE),
         True, "ignored-before-v8"),
    # join: the creator's first join
    Case("join.first", ALL, lambda v: first_join(v, CREATOR), True, "creator-after-create"),
    Case("join.first", ALL, lambda v: first_join(v, CREATOR, prev_is_create=False), False,
         "creator-after-other"),
    Case("join.first", ALL, lambda v: first_join(v, BOB), False, "not-creator"),
    Case("join.first", range(1, 11), lambda v: first_join(v, "@named:hs", creator_field="@named:hs"),
         True, "content-creator"),
    Case("join.first", range(1, 11), lambda v: first_join(v, CREATOR, creator_field="@named:hs"),
         False, "sender-is-not-creator"),
    Case("join.first", range(11, 13),
         lambda v: first_join(v, "@named:hs", creator_field="@named:hs"), False,
         "content-creator-ignored"),
    Case("join.first", range(11, 13), lambda v: first_join(v, CREATOR, creator_field="@named:hs"),
         True, "create-sender"),
    # join: general
    Case("join.sender", ALL, lambda v: m(v, ALICE, BOB, "join"), False, "for-someone-else"),
    Case("join.banned", ALL, lambda v: m(v, BOB, BOB, "join", members={BOB: "ban"}), False,
         "banned"),
    Case("join.public", ALL, lambda v: m(v, BOB, BOB, "join"), True, "public"),
    Case("join.no-rule", ALL, lambda v: m(v, BOB, BOB, "join", join_rule=None), False, "none"),
    Case("join.no-rule", ALL, lambda v: m(v, BOB, BOB, "join", join_rule="private"), False,
         "private"),
    Case("join.invite", ALL,
         lambda v: m(v, BOB, BOB, "join", join_rule="invite", members={BOB: "invite"}), True,
         "invited"),
    Case("join.invite", ALL, lambda v: m(v, BOB, BOB, "join", join_rule="invite"), False,
         "uninvited"),
    Case("join.invite", ALL,
         lambda v: m(v, BOB, BOB, "join", join_rule="invite", members={BOB: "leave"}), False,
         "left"),
    Case("join.invite", ALL, lambda v: m(v, ALICE, ALICE, "join", join_rule="invite"), True,
         "already-joined"),
    Case("join.knock-rule", range(7, 13),
         lambda v: m(v, BOB, BOB, "join", join_rule="knock", members={BOB: "invite"}), True,
         "invited"),
    Case("join.knock-rule", range(7, 13),
         lambda v: m(v, BOB, BOB, "join", join_rule="knock", members={BOB: "knock"}), False,
         "knocked-only"),
    Case("join.knock-rule", range(1, 7),
         lambda v: m(v, BOB, BOB, "join", join_rule="knock", members={BOB: "invite"}), False,
         "unknown-rule"),
    Case("join.restricted", range(8, 13), lambda v: restricted(v, "restricted", MOD), True,
         "authorised-by-member-with-invite-power"),
    Case("join.restricted", range(8, 13),
         lambda v: restricted(v, "restricted", members={BOB: "invite"}), True, "invited"),
    Case("join.restricted", range(8, 13), lambda v: restricted(v, "restricted"), False,
         "no-authoriser"),
    Case("join.restricted", range(8, 13), lambda v: restricted(v, "restricted", CAROL), False,
         "authoriser-not-joined"),
    Case("join.restricted", range(8, 13),
         lambda v: restricted(v, "restricted", CAROL, members={CAROL: "invite"}), False,
         "authoriser-only-invited"),
    Case("join.restricted", range(8, 13),
         lambda v: restricted(v, "restricted", ALICE, power=default_power(v, invite=10)), False,
         "authoriser-without-invite-power"),
    Case("join.restricted", range(1, 8),
         lambda v: restricted(v, "restricted", MOD, members={BOB: "invite"}), False,
         "unknown-rule"),
    Case("join.knock_restricted", range(10, 13), lambda v: restricted(v, "knock_restricted", MOD),
         True, "authorised"),
    Case("join.knock_restricted", range(10, 13),
         lambda v: restricted(v, "knock_restricted", members={BOB: "invite"}), True, "invited"),
    Case("join.knock_restricted", range(10, 13), lambda v: restricted(v, "knock_restricted"),
         False, "no-authoriser"),
    Case("join.knock_restricted", range(1, 10),
         lambda v: restricted(v, "knock_restricted", MOD), False, "unknown-rule"),
    # invite
    Case("invite", ALL, lambda v: m(v, ALICE, BOB, "invite"), True, "member-invites"),
    Case("invite", ALL, lambda v: m(v, ALICE, BOB, "invite", members={BOB: "invite"}), True,
         "re-invite"),
    Case("invite", ALL, lambda v: m(v, ALICE, BOB, "invite", members={BOB: "leave"}), True,
         "after-leave"),
    Case("invite.sender-joined", ALL, lambda v: m(v, BOB, CAROL, "invite"), False, "outsider"),
    Case("invite.sender-joined", ALL,
         lambda v: m(v, BOB, CAROL, "invite", members={BOB: "invite"}), False, "invited-sender"),
    Case("invite.target", ALL, lambda v: m(v, ALICE, MOD, "invite"), False, "already-joined"),
    Case("invite.target", ALL, lambda v: m(v, ALICE, BOB, "invite", members={BOB: "ban"}), False,
         "banned"),
    Case("invite.level", ALL,
         lambda v: m(v, ALICE, BOB, "invite", power=default_power(v, invite=1)), False,
         "below-invite-level"),
    Case("invite.level", ALL,
         lambda v: m(v, MOD, BOB, "invite", power=default_power(v, invite=50)), True,
         "at-invite-level"),
    # third-party invites
    Case("tpi", ALL, lambda v: tpi(v), True, "valid-public-key"),
    Case("tpi", ALL, lambda v: tpi(v, keys_field="public_keys"), True, "valid-public-keys"),
    Case("tpi.banned", ALL, lambda v: tpi(v, members={BOB: "ban"}), False, "target-banned"),
    Case("tpi.signed", ALL, lambda v: tpi(v, signed=False), False, "no-signed"),
    Case("tpi.signed", ALL, lambda v: tpi(v, drop=("token",)), False, "no-token"),
    Case("tpi.signed", ALL, lambda v: tpi(v, drop=("mxid",)), False, "no-mxid"),
    Case("tpi.mxid", ALL, lambda v: tpi(v, target=CAROL, signed=_KEY.sign(
        {"mxid": BOB, "token": "tok", "sender": ALICE})), False, "mxid-mismatch"),
    Case("tpi.token", ALL, lambda v: tpi(v, room_token="other"), False, "no-matching-event"),
    Case("tpi.sender", ALL, lambda v: tpi(v, sender=MOD), False, "not-the-inviter"),
    Case("tpi.signature", ALL, lambda v: tpi(v, key=_OTHER_KEY), False, "wrong-key"),
    Case("tpi.signature", ALL, lambda v: tpi(v, signed={"mxid": BOB, "token": "tok"}), False,
         "unsigned"),
    Case("tpi.signature", ALL, lambda v: tpi(v, signed={
        **_KEY.sign({"mxid": BOB, "token": "tok", "sender": ALICE}), "extra": "tampered"}),
        False, "tampered"),
    # leave
    Case("leave.self", ALL, lambda v: m(v, ALICE, ALICE, "leave"), True, "joined"),
    Case("leave.self", ALL, lambda v: m(v, BOB, BOB, "leave", members={BOB: "invite"}), True,
         "reject-invite"),
    Case("leave.self", range(7, 13), lambda v: m(v, BOB, BOB, "leave", members={BOB: "knock"}),
         True, "retract-knock"),
    Case("leave.self", range(1, 7), lambda v: m(v, BOB, BOB, "leave", members={BOB: "knock"}),
         False, "knock-unknown"),
    Case("leave.self", ALL, lambda v: m(v, BOB, BOB, "leave"), False, "not-a-member"),
    Case("leave.self", ALL, lambda v: m(v, BOB, BOB, "leave", members={BOB: "ban"}), False,
         "banned"),
    Case("leave.self", ALL, lambda v: m(v, BOB, BOB, "leave", members={BOB: "leave"}), False,
         "already-left"),
    Case("leave.kicker-joined", ALL, lambda v: m(v, BOB, ALICE, "leave", members={BOB: "leave"}),
         False, "kicker-left"),
    Case("leave.kick", ALL, lambda v: m(v, MOD, ALICE, "leave"), True, "mod-kicks-member"),
    Case("leave.kick", ALL, lambda v: m(v, MOD, BOB, "leave", members={BOB: "invite"}), True,
         "revoke-invite"),
    Case("leave.kick", ALL, lambda v: m(v, ALICE, MOD, "leave"), False, "member-kicks-mod"),
    Case("leave.kick", ALL, lambda v: m(v, MOD, CREATOR, "leave"), False, "mod-kicks-creator"),
    Case("leave.kick", ALL, lambda v: m(v, CREATOR, MOD, "leave"), True, "creator-kicks-mod"),
    Case("leave.kick", ALL,
         lambda v: m(v, MOD, BOB, "leave", members={BOB: "join"},
                     power=default_power(v, users={**default_power(v)["users"], BOB: 50})),
         False, "equal-level"),
    Case("leave.kick", ALL,
         lambda v: m(v, MOD, ALICE, "leave", power=default_power(v, kick=51)), False,
         "below-kick-level"),
    Case("leave.unban", ALL, lambda v: m(v, MOD, BOB, "leave", members={BOB: "ban"}), True,
         "mod-unbans"),
    Case("leave.unban", ALL,
         lambda v: m(v, MOD, BOB, "leave", members={BOB: "ban"},
                     power=default_power(v, ban=60)), False, "below-ban-level"),
    # ban
    Case("ban", ALL, lambda v: m(v, MOD, ALICE, "ban"), True, "mod-bans-member"),
    Case("ban", ALL, lambda v: m(v, MOD, BOB, "ban"), True, "mod-bans-outsider"),
    Case("ban.sender-joined", ALL, lambda v: m(v, BOB, ALICE, "ban", members={BOB: "invite"}),
         False, "not-joined"),
    Case("ban.level", ALL, lambda v: m(v, ALICE, BOB, "ban"), False, "member"),
    Case("ban.level", ALL, lambda v: m(v, MOD, CREATOR, "ban"), False, "target-higher"),
    Case("ban.level", ALL,
         lambda v: m(v, MOD, ALICE, "ban", power=default_power(v, ban=51)), False,
         "below-ban-level"),
    Case("ban.creators", range(12, 13),
         lambda v: m(v, SECOND, MOD, "ban", members={SECOND: "join"},
                     room_kw={"create_content": {"additional_creators": [SECOND]}}), True,
         "additional-creator-bans-mod"),
    Case("ban.creators", range(12, 13),
         lambda v: m(v, MOD, SECOND, "ban", members={SECOND: "join"},
                     room_kw={"create_content": {"additional_creators": [SECOND]}}), False,
         "mod-bans-additional-creator"),
    # knock (v7+)
    Case("knock", range(7, 13), lambda v: m(v, BOB, BOB, "knock", join_rule="knock"), True,
         "knock-rule"),
    Case("knock", range(7, 13), lambda v: m(v, BOB, BOB, "knock", join_rule="knock",
                                            members={BOB: "leave"}), True, "after-leave"),
    Case("knock.rule", range(7, 13), lambda v: m(v, BOB, BOB, "knock"), False, "public"),
    Case("knock.rule", range(7, 13), lambda v: m(v, BOB, BOB, "knock", join_rule="invite"),
         False, "invite"),
    Case("knock.rule", range(10, 13), lambda v: m(v, BOB, BOB, "knock",
                                                  join_rule="knock_restricted"), True,
         "knock-restricted"),
    Case("knock.rule", range(7, 10), lambda v: m(v, BOB, BOB, "knock",
                                                 join_rule="knock_restricted"), False,
         "knock-restricted-unknown"),
    Case("knock.sender", range(7, 13), lambda v: m(v, ALICE, BOB, "knock", join_rule="knock"),
         False, "for-someone-else"),
    Case("knock.membership", range(7, 13),
         lambda v: m(v, BOB, BOB, "knock", join_rule="knock", members={BOB: "ban"}), False,
         "banned"),
    Case("knock.membership", range(7, 13),
         lambda v: m(v, BOB, BOB, "knock", join_rule="knock", members={BOB: "invite"}), False,
         "invited"),
    Case("knock.membership", range(7, 13), lambda v: m(v, ALICE, ALICE, "knock", join_rule="knock"),
         False, "joined"),
]


@pytest.mark.parametrize("case,n", params(CASES))
def test_membership_rule(case, n):
    run_case(case, n)
