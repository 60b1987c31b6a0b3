"""Event format per room version: hashes, event IDs, redaction, size limits, client view.

Plain functions (no database): known answers from the spec's appendices where it gives them,
otherwise an independent re-computation of the spec's algorithms.
"""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from homeserver import errors
from homeserver.services.rooms import event_format as ef
from homeserver.services.rooms.room_versions import KNOWN_ROOM_VERSIONS

ALL_VERSIONS = [KNOWN_ROOM_VERSIONS[str(n)] for n in range(1, 13)]


def V(n):
    return KNOWN_ROOM_VERSIONS[str(n)]


def spec_canonical_json(value) -> bytes:
    """The appendix's reference implementation of canonical JSON."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"),
                      sort_keys=True).encode("UTF-8")


def make(version, event_type="m.room.message", content=None, **kw):
    args = dict(room_id="!room:example.org", sender="@alice:example.org", event_type=event_type,
                content={"body": "hi", "msgtype": "m.text"} if content is None else content,
                prev_event_ids=[], auth_event_ids=[], depth=5, origin_server_ts=1_700_000_000_000,
                server_name="example.org")
    args.update(kw)
    return ef.new_event(version, **args)


# --- known answers (appendices: "Event Signing" test vectors) ------------------------------------

def test_content_hash_of_minimal_event_matches_spec_vector():
    event = {"room_id": "!x:domain", "sender": "@a:domain", "origin": "domain",
             "origin_server_ts": 1000000, "signatures": {}, "hashes": {}, "type": "X",
             "content": {}, "prev_events": [], "auth_events": [], "depth": 3,
             "unsigned": {"age_ts": 1000000}}
    assert ef.content_hash(event) == "5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos"


def test_content_hash_of_redactable_event_matches_spec_vector():
    event = {"content": {"body": "Here is the message content"}, "event_id": "$0:domain",
             "origin": "domain", "origin_server_ts": 1000000, "type": "m.room.message",
             "room_id": "!r:domain", "sender": "@u:domain", "signatures": {},
             "unsigned": {"age_ts": 1000000}}
    assert ef.content_hash(event) == "onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g"


def test_content_hash_ignores_unsigned_signatures_and_hashes():
    _, pdu = make(V(10))
    variant = dict(pdu, unsigned={"age": 1}, signatures={"x": {"k": "s"}}, hashes={"sha256": "z"})
    assert ef.content_hash(variant) == ef.content_hash(pdu) == pdu["hashes"]["sha256"]


# --- reference hashes and event IDs ---------------------------------------------------------------

@pytest.mark.parametrize("version", ALL_VERSIONS[2:], ids=lambda v: "v" + v.identifier)
def test_event_id_is_hash_of_redacted_canonical_json(version):
    event_id, pdu = make(version)
    pdu_with_extras = dict(pdu, unsigned={"age_ts": 5}, signatures={"example.org": {"k": "s"}})
    # Independently: keep the protected top-level keys, empty the message content.
    stripped = {k: v for k, v in pdu.items()
                if k in ("type", "room_id", "sender", "depth", "prev_events", "auth_events",
                         "origin_server_ts", "hashes")}
    stripped["content"] = {}
    digest = hashlib.sha256(spec_canonical_json(stripped)).digest()
    if version.event_id_format == "v3":
        expected = base64.b64encode(digest).decode().rstrip("=")
    else:
        expected = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert event_id == "$" + expected
    assert ef.compute_event_id(pdu, version) == event_id
    assert ef.compute_event_id(pdu_with_extras, version) == event_id
    assert "event_id" not in pdu
    assert len(event_id) == 44


def test_v3_uses_standard_and_v4_urlsafe_alphabet():
    for ts in range(1000):
        v3_id, pdu = make(V(3), origin_server_ts=ts)
        if "+" in v3_id or "/" in v3_id:
            break
    else:
        pytest.fail("no event ID with + or / found")
    v4_id = ef.compute_event_id(pdu, V(4))
    assert v4_id == v3_id.replace("+", "-").replace("/", "_")
    assert "+" not in v4_id and "/" not in v4_id


@pytest.mark.parametrize("version", ALL_VERSIONS[:2], ids=lambda v: "v" + v.identifier)
def test_v1_v2_event_ids_are_server_chosen_and_inside_the_pdu(version):
    event_id, pdu = make(version, prev_event_ids=["$a:example.org"],
                         auth_event_ids=["$b:example.org", "$c:example.org"],
                         prev_event_hashes={"$a:example.org": {"sha256": "AAA"},
                                            "$b:example.org": {"sha256": "BBB"}})
    assert pdu["event_id"] == event_id
    assert event_id.startswith("$") and event_id.endswith(":example.org")
    assert ef.compute_event_id(pdu, version) == event_id
    assert pdu["prev_events"] == [["$a:example.org", {"sha256": "AAA"}]]
    assert pdu["auth_events"] == [["$b:example.org", {"sha256": "BBB"}],
                                  ["$c:example.org", {"sha256": ""}]]
    assert ef.event_ids_of(pdu["auth_events"]) == ["$b:example.org", "$c:example.org"]
    other_id, _ = make(version)
    assert other_id != event_id


@pytest.mark.parametrize("version", ALL_VERSIONS, ids=lambda v: "v" + v.identifier)
def test_redaction_keeps_the_event_id(version):
    event_id, pdu = make(version)
    assert ef.compute_event_id(ef.redact(pdu, version), version) == event_id


def test_event_ids_differ_between_events():
    a, _ = make(V(12), content={"body": "a"})
    b, _ = make(V(12), content={"body": "b"})
    assert a != b


@pytest.mark.parametrize("version", ALL_VERSIONS[2:], ids=lambda v: "v" + v.identifier)
def test_prev_and_auth_events_are_plain_id_lists_from_v3(version):
    _, pdu = make(version, prev_event_ids=["$p"], auth_event_ids=["$a1", "$a2"])
    assert pdu["prev_events"] == ["$p"] and pdu["auth_events"] == ["$a1", "$a2"]


@pytest.mark.parametrize("version", ALL_VERSIONS, ids=lambda v: "v" + v.identifier)
def test_pdu_shape(version):
    _, pdu = make(version, event_type="m.room.topic", content={"topic": "t"}, state_key="")
    assert pdu["state_key"] == "" and pdu["signatures"] == {}
    assert set(pdu["hashes"]) == {"sha256"}
    assert pdu["room_id"] == "!room:example.org" and pdu["depth"] == 5
    _, message = make(version)
    assert "state_key" not in message


def test_v12_create_event_has_no_room_id_and_names_the_room():
    event_id, pdu = make(V(12), event_type="m.room.create", content={"room_version": "12"},
                         state_key="", room_id=None)
    assert "room_id" not in pdu
    room_id = ef.room_id_for_create_event(event_id)
    assert room_id == "!" + event_id[1:]
    # A create event in older versions needs its room ID.
    with pytest.raises(ValueError):
        make(V(11), event_type="m.room.create", content={}, state_key="", room_id=None)


def test_v12_create_event_ignores_a_room_id_given_anyway():
    _, pdu = make(V(12), event_type="m.room.create", content={}, state_key="")
    assert "room_id" not in pdu


@pytest.mark.parametrize("version", ALL_VERSIONS, ids=lambda v: "v" + v.identifier)
def test_redacts_placement(version):
    _, pdu = make(version, event_type="m.room.redaction", content={"reason": "spam"},
                  redacts="$target")
    if int(version.identifier) >= 11:
        assert pdu["content"] == {"reason": "spam", "redacts": "$target"}
        assert "redacts" not in pdu
    else:
        assert pdu["redacts"] == "$target" and pdu["content"] == {"reason": "spam"}


def test_depth_is_capped_at_the_version_limit():
    assert make(V(5), depth=2**63)[1]["depth"] == 2**63 - 1
    assert make(V(6), depth=2**60)[1]["depth"] == 2**53 - 1
    assert make(V(6), depth=7)[1]["depth"] == 7


def test_new_event_does_not_alias_callers_content():
    content = {"body": "x"}
    _, pdu = make(V(11), event_type="m.room.redaction", content=content, redacts="$e")
    assert content == {"body": "x"}
    assert pdu["content"] is not content


# --- redaction algorithm --------------------------------------------------------------------------

def _full_event(event_type, content, **extra):
    event = {"event_id": "$e:x", "type": event_type, "room_id": "!r:x", "sender": "@u:x",
             "state_key": "", "content": content, "hashes": {"sha256": "h"},
             "signatures": {"x": {"ed25519:1": "s"}}, "depth": 3, "prev_events": [],
             "prev_state": [], "auth_events": [], "origin": "x", "origin_server_ts": 1,
             "membership": "join", "unsigned": {"age": 3}, "redacts": "$t", "extra": 1}
    event.update(extra)
    return event


@pytest.mark.parametrize("version", ALL_VERSIONS, ids=lambda v: "v" + v.identifier)
def test_redaction_top_level_keys(version):
    redacted = ef.redact(_full_event("m.room.message", {"body": "x"}), version)
    base = {"event_id", "type", "room_id", "sender", "state_key", "content", "hashes",
            "signatures", "depth", "prev_events", "auth_events", "origin_server_ts"}
    if int(version.identifier) <= 10:
        base |= {"prev_state", "origin", "membership"}
    assert set(redacted) == base
    assert redacted["content"] == {}


MEMBER = {"membership": "join", "displayname": "A", "avatar_url": "mxc://x/y",
          "join_authorised_via_users_server": "@admin:x",
          "third_party_invite": {"display_name": "d", "signed": {"mxid": "@u:x", "token": "t"}}}
CREATE = {"creator": "@u:x", "room_version": "1", "m.federate": True}
JOIN_RULES = {"join_rule": "restricted", "allow": [{"type": "m.room_membership"}], "other": 1}
POWER = {"ban": 50, "events": {}, "events_default": 0, "kick": 50, "redact": 50,
         "state_default": 50, "users": {}, "users_default": 0, "invite": 0,
         "notifications": {"room": 50}}

REDACTION_CASES = [
    # (type, content, {version: expected content} with ranges)
    ("m.room.member", MEMBER, [
        (range(1, 9), {"membership": "join"}),
        (range(9, 11), {"membership": "join", "join_authorised_via_users_server": "@admin:x"}),
        (range(11, 13), {"membership": "join", "join_authorised_via_users_server": "@admin:x",
                         "third_party_invite": {"signed": {"mxid": "@u:x", "token": "t"}}}),
    ]),
    ("m.room.create", CREATE, [
        (range(1, 11), {"creator": "@u:x"}),
        (range(11, 13), CREATE),
    ]),
    ("m.room.join_rules", JOIN_RULES, [
        (range(1, 8), {"join_rule": "restricted"}),
        (range(8, 13), {"join_rule": "restricted", "allow": [{"type": "m.room_membership"}]}),
    ]),
    ("m.room.power_levels", POWER, [
        (range(1, 11), {k: v for k, v in POWER.items() if k not in ("invite", "notifications")}),
        (range(11, 13), {k: v for k, v in POWER.items() if k != "notifications"}),
    ]),
    ("m.room.aliases", {"aliases": ["#a:x"], "x": 1}, [
        (range(1, 6), {"aliases": ["#a:x"]}),
        (range(6, 13), {}),
    ]),
    ("m.room.history_visibility", {"history_visibility": "shared", "x": 1}, [
        (range(1, 13), {"history_visibility": "shared"}),
    ]),
    ("m.room.redaction", {"redacts": "$t", "reason": "r"}, [
        (range(1, 11), {}),
        (range(11, 13), {"redacts": "$t"}),
    ]),
    ("m.room.topic", {"topic": "t"}, [(range(1, 13), {})]),
]


@pytest.mark.parametrize("event_type,content,expectations", REDACTION_CASES,
                         ids=[c[0] for c in REDACTION_CASES])
def test_redaction_content_per_version(event_type, content, expectations):
    for versions, expected in expectations:
        for n in versions:
            redacted = ef.redact(_full_event(event_type, content), V(n))
            assert redacted["content"] == expected, f"v{n}"


def test_redaction_of_member_third_party_invite_without_signed_v11():
    event = _full_event("m.room.member", {"membership": "invite",
                                          "third_party_invite": {"display_name": "d"}})
    assert ef.redact(event, V(11))["content"] == {"membership": "invite"}


def test_redaction_copies_and_leaves_the_original_alone():
    event = _full_event("m.room.power_levels", {"users": {"@u:x": 100}})
    redacted = ef.redact(event, V(10))
    redacted["content"]["users"]["@v:x"] = 1
    assert event["content"]["users"] == {"@u:x": 100}
    assert "extra" in event


def test_redaction_with_non_object_content():
    event = _full_event("m.room.member", "not an object")
    assert ef.redact(event, V(10))["content"] == {}


# --- canonical JSON and size limits ---------------------------------------------------------------

@pytest.mark.parametrize("value", [
    {"a": 1.5}, {"a": [1, {"b": 2.0}]}, {"n": 2**53}, {"n": -(2**53)}, {"s": "\ud800"},
    {"\udfff": 1}, {"inf": float("inf")},
])
def test_check_canonical_refuses(value):
    for version in (V(1), V(12)):
        with pytest.raises(errors.BadJson) as info:
            ef.check_canonical(value, version)
        assert info.value.errcode == "M_BAD_JSON" and info.value.status == 400


def test_check_canonical_accepts_edge_values():
    ef.check_canonical({"max": 2**53 - 1, "min": -(2**53) + 1, "b": True, "n": None,
                        "nested": [[[{"x": "é😀"}]]]}, V(12))


def test_deeply_nested_content_does_not_exhaust_the_stack():
    value: dict = {}
    node = value
    for _ in range(100_000):
        node["a"] = {}
        node = node["a"]
    ef.check_canonical(value, V(12))


def test_new_event_refuses_floats():
    with pytest.raises(errors.BadJson):
        make(V(3), content={"x": 0.5})


def test_event_size_limit_whole_event():
    _, pdu = make(V(12))
    pdu["content"] = {"body": "x" * 65000}
    ef.check_event_size(pdu)
    pdu["content"] = {"body": "x" * 65536}
    with pytest.raises(errors.TooLarge) as info:
        ef.check_event_size(pdu)
    assert info.value.errcode == "M_TOO_LARGE" and info.value.status == 413
    with pytest.raises(errors.TooLarge):
        make(V(12), content={"body": "x" * 66000})


def test_event_size_limit_counts_utf8_bytes():
    _, pdu = make(V(12))
    pdu["content"] = {"body": "é" * 33000}  # 66000 bytes, 33000 characters
    with pytest.raises(errors.TooLarge):
        ef.check_event_size(pdu)


@pytest.mark.parametrize("field", ["sender", "room_id", "state_key", "type", "event_id"])
def test_event_size_limit_per_field(field):
    _, pdu = make(V(1))
    pdu[field] = "@" + "a" * 254
    ef.check_event_size(pdu)
    pdu[field] = "@" + "a" * 255
    with pytest.raises(errors.TooLarge):
        ef.check_event_size(pdu)


def test_event_size_limit_on_multibyte_state_key_and_computed_event_id():
    _, pdu = make(V(12))
    pdu["state_key"] = "é" * 128  # 256 bytes
    with pytest.raises(errors.TooLarge):
        ef.check_event_size(pdu)
    _, pdu = make(V(12))
    with pytest.raises(errors.TooLarge):
        ef.check_event_size(pdu, event_id="$" + "a" * 255)
    with pytest.raises(errors.TooLarge):
        make(V(12), event_type="m." + "t" * 254)


# --- client view ----------------------------------------------------------------------------------

def test_client_event_has_only_client_keys():
    event_id, pdu = make(V(10), event_type="m.room.topic", content={"topic": "t"}, state_key="")
    event = ef.client_event(pdu, event_id, "!room:example.org")
    assert event == {"content": {"topic": "t"}, "event_id": event_id,
                     "origin_server_ts": pdu["origin_server_ts"], "room_id": "!room:example.org",
                     "sender": "@alice:example.org", "type": "m.room.topic", "state_key": ""}
    event_id, pdu = make(V(1))
    assert "state_key" not in ef.client_event(pdu, event_id, "!room:example.org")


def test_client_event_of_v12_create_gets_the_room_id():
    event_id, pdu = make(V(12), event_type="m.room.create", content={}, state_key="",
                         room_id=None)
    room_id = ef.room_id_for_create_event(event_id)
    assert ef.client_event(pdu, event_id, room_id)["room_id"] == room_id


@pytest.mark.parametrize("version", [V(1), V(10), V(11), V(12)], ids=lambda v: "v" + v.identifier)
def test_client_redaction_event_has_redacts_in_both_places(version):
    event_id, pdu = make(version, event_type="m.room.redaction", content={"reason": "r"},
                         redacts="$target")
    event = ef.client_event(pdu, event_id, "!room:example.org")
    assert event["redacts"] == "$target"
    assert event["content"] == {"reason": "r", "redacts": "$target"}
    assert "redacts" not in pdu["content"] or version.redacts_in_content


def test_client_event_of_redacted_redaction():
    event_id, pdu = make(V(10), event_type="m.room.redaction", content={"reason": "r"},
                         redacts="$target")
    event = ef.client_event(ef.redact(pdu, V(10)), event_id, "!room:example.org")
    assert "redacts" not in event and event["content"] == {}
