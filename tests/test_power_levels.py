"""Power level helpers: defaults, creators, stringy/floaty values per room version."""

from __future__ import annotations

import math

import pytest

from homeserver import errors
from homeserver.services.rooms import power_levels as pl
from homeserver.services.rooms.room_versions import KNOWN_ROOM_VERSIONS


def V(n):
    return KNOWN_ROOM_VERSIONS[str(n)]


ALL = [V(n) for n in range(1, 13)]


def create_event(version, sender="@creator:x", **content):
    if not version.creator_is_create_sender:
        content.setdefault("creator", sender)
    return {"type": "m.room.create", "state_key": "", "sender": sender, "content": content}


def state(version, power=None, **create_content):
    result = {("m.room.create", ""): create_event(version, **create_content)}
    if power is not None:
        result[("m.room.power_levels", "")] = {"type": "m.room.power_levels", "state_key": "",
                                               "sender": "@creator:x", "content": power}
    return result


@pytest.mark.parametrize("version", ALL, ids=lambda v: "v" + v.identifier)
def test_without_power_levels_event_creator_100_others_0(version):
    s = state(version)
    expected = pl.CREATOR_POWER if version.room_id_from_create_event else 100
    assert pl.user_level(s, "@creator:x", version) == expected
    assert pl.user_level(s, "@other:x", version) == 0
    assert pl.event_level(s, "m.room.message", False, version) == 0
    assert pl.event_level(s, "m.room.topic", True, version) == 50
    assert [pl.action_level(s, a) for a in ("invite", "kick", "ban", "redact")] == [0, 50, 50, 50]
    assert pl.action_level(s, "notifications.room") == 50


def test_v1_to_v10_creator_comes_from_content_not_sender():
    s = {("m.room.create", ""): {"type": "m.room.create", "sender": "@sender:x",
                                 "content": {"creator": "@named:x"}}}
    assert pl.user_level(s, "@named:x", V(10)) == 100
    assert pl.user_level(s, "@sender:x", V(10)) == 0
    assert pl.user_level(s, "@sender:x", V(11)) == 100
    assert pl.user_level(s, "@named:x", V(11)) == 0


@pytest.mark.parametrize("version", ALL, ids=lambda v: "v" + v.identifier)
def test_levels_from_power_levels_event(version):
    s = state(version, {"users": {"@mod:x": 50}, "users_default": 10, "events_default": 5,
                        "state_default": 60, "events": {"m.room.name": 70, "m.custom": 1},
                        "invite": 20, "kick": 30, "ban": 40, "redact": 45,
                        "notifications": {"room": 80}})
    assert pl.user_level(s, "@mod:x", version) == 50
    assert pl.user_level(s, "@nobody:x", version) == 10
    # The creator is only special without a power levels event, except in v12.
    expected = pl.CREATOR_POWER if version.room_id_from_create_event else 10
    assert pl.user_level(s, "@creator:x", version) == expected
    assert pl.event_level(s, "m.room.name", True, version) == 70
    assert pl.event_level(s, "m.custom", False, version) == 1
    assert pl.event_level(s, "m.room.topic", True, version) == 60
    assert pl.event_level(s, "m.room.message", False, version) == 5
    assert [pl.action_level(s, a, version) for a in ("invite", "kick", "ban", "redact")] == \
        [20, 30, 40, 45]
    assert pl.action_level(s, "notifications.room", version) == 80
    assert pl.action_level(s, "notifications.other", version) == 50


def test_v12_additional_creators_have_infinite_power():
    s = state(V(12), {"users": {}}, additional_creators=["@second:x", 5])
    assert pl.user_level(s, "@second:x", V(12)) == math.inf
    assert pl.user_level(s, "@second:x", V(12)) > 2**63
    assert pl.creators(s, V(12)) == {"@creator:x", "@second:x"}
    # additional_creators means nothing before v12.
    s11 = state(V(11), {"users": {}}, additional_creators=["@second:x"])
    assert pl.user_level(s11, "@second:x", V(11)) == 0


@pytest.mark.parametrize("value,expected", [
    ("100", 100), (" +100 ", 100), ("-0050", -50), ("000100", 100), ("1.5", None),
    ("abc", None), ("", None), ("1e3", None),
])
def test_stringy_levels_before_v10(value, expected):
    for n in range(1, 10):
        assert pl.parse_level(value, V(n)) == expected
    for n in (10, 11, 12):
        assert pl.parse_level(value, V(n)) is None


def test_floaty_levels_before_v6():
    assert pl.parse_level(50.57, V(1)) == 50
    assert pl.parse_level(5.114698E4, V(5)) == 51146
    assert pl.parse_level(-2.5, V(5)) == -2
    assert pl.parse_level(float("inf"), V(1)) is None
    assert pl.parse_level(float("nan"), V(1)) is None
    assert pl.parse_level(50.5, V(6)) is None
    assert pl.parse_level(True, V(1)) is None


def test_invalid_values_fall_back_to_defaults():
    s = state(V(10), {"users": {"@u:x": "50"}, "users_default": "7", "kick": "x"})
    assert pl.user_level(s, "@u:x", V(10)) == 0
    assert pl.action_level(s, "kick", V(10)) == 50
    s9 = state(V(9), {"users": {"@u:x": "50"}, "users_default": "7"})
    assert pl.user_level(s9, "@u:x", V(9)) == 50
    assert pl.user_level(s9, "@v:x", V(9)) == 7


def test_unknown_action_is_a_programming_error():
    with pytest.raises(ValueError):
        pl.action_level({}, "fly")


@pytest.mark.parametrize("content", [
    {"ban": "50"}, {"kick": 1.5}, {"invite": True}, {"events": {"m.x": "1"}}, {"events": []},
    {"notifications": {"room": None}}, {"users": []}, {"users": {"not-a-user": 1}},
    {"users": {"@u:x": "100"}}, {"state_default": 2**53},
])
def test_check_new_content_refuses(content):
    with pytest.raises(errors.BadJson):
        pl.check_new_content(content)


def test_check_new_content_accepts_integers():
    pl.check_new_content({"ban": 50, "events": {"m.room.name": 100}, "users": {"@u:x": -5},
                          "notifications": {"room": 0}, "users_default": 0})
