"""Push rule condition evaluation (spec: Push Notifications, Conditions and Predefined Rules).

The evaluator is a pure module; these tests drive it with the server-default rule set."""

import pytest

from homeserver.property_paths import split_property_path
from homeserver.services.globs import push_word_glob
from homeserver.services.push.default_rules import DEFAULTS, KINDS
from homeserver.services.push.evaluator import (EventFacts, Rule, compile_rule,
                                                highlights, lookup, notifies, tweaks)

ME = "@alice:example.org"


def facts(event, member_count=3, sender_level=0, room_level=50):
    event = {"room_id": "!r:example.org", "sender": "@bob:example.org", **event}
    return EventFacts(event, member_count=member_count, sender_level=lambda: sender_level,
                      notification_level=lambda key: room_level if key == "room" else 50)


def default_rules():
    rules = []
    for kind in KINDS:
        rules += [compile_rule(kind, r) for r in DEFAULTS[kind] if r["enabled"]]
    return rules


def matching_rule(event, display_name="Alice Liddell", **kw):
    f = facts(event, **kw)
    for rule in default_rules():
        if f.actions_for([rule], ME, lambda: display_name) is not None:
            return rule.rule_id
    return None


def message(body, **extra):
    return {"type": "m.room.message", "content": {"msgtype": "m.text", "body": body, **extra}}


def condition(cond, event, user=ME):
    rule = Rule("override", "test", (cond,), ("notify",))
    return facts(event).actions_for([rule], user, lambda: None) is not None


# --- paths and globs ----------------------------------------------------------------------------

def test_dotted_paths_with_escapes():
    assert split_property_path("content.body") == ("content", "body")
    assert split_property_path("content.m\\.relates_to.rel_type") == (
        "content", "m.relates_to", "rel_type")
    assert split_property_path("content.m\\\\foo") == ("content", "m\\foo")
    # Other escapes are literal.
    assert split_property_path("content.a\\xb") == ("content", "a\\xb")
    event = {"content": {"m.relates_to": {"rel_type": "m.replace"}, "m\\foo": 1}}
    assert lookup(event, "content.m\\.relates_to.rel_type") == "m.replace"
    assert lookup(event, "content.m\\\\foo") == 1


def test_event_match_is_a_case_insensitive_whole_value_glob():
    event = {"type": "m.room.topic", "state_key": "", "content": {"topic": "Lunch plans"}}
    cond = {"kind": "event_match", "key": "content.topic", "pattern": "lunc?*"}
    assert condition(cond, event)
    for topic in ("LUNCH",):
        assert condition(cond, {**event, "content": {"topic": topic}})
    for topic in (" lunch", "lunc", None, 5):
        assert not condition(cond, {**event, "content": {"topic": topic}})
    # Absent property never matches, even with "*".
    assert not condition({"kind": "event_match", "key": "content.nope", "pattern": "*"}, event)
    # Regex metacharacters in patterns are literal.
    assert not condition({"kind": "event_match", "key": "type", "pattern": "m.room.topi."},
                         {"type": "m.room.topic"})
    assert condition({"kind": "event_match", "key": "type", "pattern": "m.room.topi?"},
                     {"type": "m.room.topic"})


def test_event_match_on_body_uses_word_boundaries():
    cond = {"kind": "event_match", "key": "content.body", "pattern": "ex*ple"}
    for body in ("An example event.", "exple", "An exciting triple-whammy"):
        assert condition(cond, message(body)), body
    for body in ("Anexample", "examples", "example_x"):
        assert not condition(cond, message(body)), body
    assert push_word_glob("cake").matches("I like CAKE!")


def test_event_property_is_matches_exact_types():
    event = {"type": "m.room.create", "content": {"m.federate": True, "n": 1, "s": "true",
                                                  "z": None, "obj": {}}}

    def is_(key, value):
        return condition({"kind": "event_property_is", "key": key, "value": value}, event)
    assert is_("content.m\\.federate", True)
    assert not is_("content.m\\.federate", "true")
    assert not is_("content.m\\.federate", 1)
    assert is_("content.n", 1) and not is_("content.n", True) and not is_("content.n", "1")
    assert is_("content.s", "true")
    assert is_("content.z", None)
    assert not is_("content.missing", None)
    assert not is_("content.obj", None)


def test_event_property_contains():
    event = {"type": "m.room.canonical_alias",
             "content": {"alt_aliases": ["#somewhere:example.org", "#myroom:example.com", 1,
                                         True, {"x": 1}]}}

    def contains(value, key="content.alt_aliases"):
        return condition({"kind": "event_property_contains", "key": key, "value": value}, event)
    assert contains("#myroom:example.com")
    assert not contains(":example.com")
    assert contains(1) and contains(True) and not contains("1")
    assert not contains("x", key="content")
    assert not contains("#myroom:example.com", key="content.missing")


@pytest.mark.parametrize("spec,count,expected", [
    ("2", 2, True), ("2", 3, False), ("==2", 2, True), ("<10", 9, True), ("<10", 10, False),
    (">2", 3, True), (">=3", 3, True), ("<=10", 11, False), ("abc", 2, False), ("=2", 2, False),
])
def test_room_member_count(spec, count, expected):
    f = facts({"type": "m.room.message", "content": {}}, member_count=count)
    rule = Rule("override", "x", ({"kind": "room_member_count", "is": spec},), ("notify",))
    assert (f.actions_for([rule], ME, lambda: None) is not None) is expected


def test_unknown_conditions_never_match():
    assert not condition({"kind": "org.example.future"}, message("hi"))
    assert not condition({"kind": "event_match", "key": "type"}, {"type": "x"})


# --- the default rules --------------------------------------------------------------------------

def test_default_rule_order():
    ids = {kind: [r["rule_id"] for r in DEFAULTS[kind]] for kind in KINDS}
    assert ids["override"] == [
        ".m.rule.master", ".m.rule.suppress_notices", ".m.rule.invite_for_me",
        ".m.rule.member_event", ".m.rule.is_user_mention", ".m.rule.contains_display_name",
        ".m.rule.is_room_mention", ".m.rule.roomnotif", ".m.rule.tombstone", ".m.rule.reaction",
        ".m.rule.room.server_acl", ".m.rule.suppress_edits"]
    assert ids["content"] == [".m.rule.contains_user_name"]
    assert ids["underride"] == [".m.rule.call", ".m.rule.encrypted_room_one_to_one",
                                ".m.rule.room_one_to_one", ".m.rule.message", ".m.rule.encrypted"]


def test_plain_messages_notify_without_highlight():
    assert matching_rule(message("hello")) == ".m.rule.message"
    assert matching_rule(message("hello"), member_count=2) == ".m.rule.room_one_to_one"
    actions = facts(message("hello")).actions_for(default_rules(), ME, lambda: None)
    assert notifies(actions) and not highlights(actions)


def test_notices_reactions_edits_and_members_are_silent():
    assert matching_rule({"type": "m.room.message",
                          "content": {"msgtype": "m.notice", "body": "bot"}}) == \
        ".m.rule.suppress_notices"
    assert matching_rule({"type": "m.reaction", "content": {}}) == ".m.rule.reaction"
    edit = message("* fixed", **{"m.relates_to": {"rel_type": "m.replace", "event_id": "$x"}})
    assert matching_rule(edit) == ".m.rule.suppress_edits"
    join = {"type": "m.room.member", "state_key": "@carol:example.org",
            "content": {"membership": "join"}}
    assert matching_rule(join) == ".m.rule.member_event"


def test_invite_for_me():
    invite = {"type": "m.room.member", "state_key": ME, "content": {"membership": "invite"}}
    assert matching_rule(invite) == ".m.rule.invite_for_me"
    other = {**invite, "state_key": "@carol:example.org"}
    assert matching_rule(other) == ".m.rule.member_event"


def test_intentional_mentions():
    mention = message("hey", **{"m.mentions": {"user_ids": [ME]}})
    assert matching_rule(mention) == ".m.rule.is_user_mention"
    actions = facts(mention).actions_for(default_rules(), ME, lambda: None)
    assert highlights(actions) and tweaks(actions)["sound"] == "default"
    room = message("everyone", **{"m.mentions": {"room": True}})
    assert matching_rule(room, sender_level=50) == ".m.rule.is_room_mention"
    assert matching_rule(room, sender_level=0) == ".m.rule.message"


def test_legacy_body_mentions_only_without_m_mentions():
    assert matching_rule(message("hi Alice Liddell!")) == ".m.rule.contains_display_name"
    assert matching_rule(message("ALICE liddell")) == ".m.rule.contains_display_name"
    assert matching_rule(message("hi alice")) == ".m.rule.contains_user_name"
    assert matching_rule(message("hi @room"), sender_level=100) == ".m.rule.roomnotif"
    assert matching_rule(message("hi @room"), sender_level=10) == ".m.rule.message"
    # With m.mentions present, the body is not searched for mentions.
    with_mentions = message("hi Alice Liddell alice @room", **{"m.mentions": {}})
    assert matching_rule(with_mentions, sender_level=100) == ".m.rule.message"
    assert matching_rule(message("malice")) == ".m.rule.message"


def test_tombstone_and_server_acl_need_state_key():
    assert matching_rule({"type": "m.room.tombstone", "state_key": "",
                          "content": {"body": "moved"}}) == ".m.rule.tombstone"
    assert matching_rule({"type": "m.room.tombstone", "content": {}}) is None
    assert matching_rule({"type": "m.room.server_acl", "state_key": "",
                          "content": {}}) == ".m.rule.room.server_acl"


def test_calls_and_encrypted():
    assert matching_rule({"type": "m.call.invite", "content": {}}) == ".m.rule.call"
    assert matching_rule({"type": "m.room.encrypted", "content": {}}) == ".m.rule.encrypted"
    assert matching_rule({"type": "m.room.encrypted", "content": {}}, member_count=2) == \
        ".m.rule.encrypted_room_one_to_one"
    assert matching_rule({"type": "org.example.custom", "content": {}}) is None


def test_historical_actions_are_ignored():
    rule = compile_rule("override", {"rule_id": "x", "conditions": [],
                                     "actions": ["dont_notify", "coalesce"]})
    assert rule.actions == ()
    assert tweaks([{"set_tweak": "highlight", "value": False}]) == {"highlight": False}


def test_batched_evaluation_matches_one_by_one():
    users = [f"@user{i}:example.org" for i in range(40)] + ["@alice:example.org", "@a.b:x"]
    names = {u: (f"User {i}" if i % 3 else f"name{i}") for i, u in enumerate(users)}
    custom = [compile_rule("override", {"rule_id": "mine", "conditions": [
        {"kind": "event_match", "key": "content.body", "pattern": "tea*"}],
        "actions": ["notify", {"set_tweak": "highlight"}]})] + default_rules()
    rules = default_rules()
    by_user = {u: (custom if i % 7 == 0 else rules) for i, u in enumerate(users)}
    events = [
        message("hello world"),
        message("hi User 4, name3, user5, alice and a.b: teatime @room"),
        message("x", **{"m.mentions": {"user_ids": [users[2], users[9], 5, None]}}),
        {"type": "m.room.member", "state_key": users[4], "content": {"membership": "invite"}},
        {"type": "m.room.encrypted", "content": {"ciphertext": "..."}},
        {"type": "m.room.message", "content": {"msgtype": "m.notice", "body": "user1"}},
    ]
    for event in events:
        for member_count in (2, 40):
            batch = facts(event, member_count=member_count, sender_level=100).actions_by_user(
                by_user, lambda: names)
            single = facts(event, member_count=member_count, sender_level=100)
            for u in users:
                assert batch[u] == single.actions_for(by_user[u], u, lambda u=u: names[u]), \
                    (event, u)


# --- compiled conditions ------------------------------------------------------------------------

def test_globs_without_wildcards_fold_case_as_the_glob_engine_does():
    # Such globs on an ASCII value are compared without RE2; past ASCII, RE2's case folding
    # (U+017F folds to s, U+212A to k) still decides.
    def matches(pattern, text):
        return condition({"kind": "event_match", "key": "content.x", "pattern": pattern},
                         {"type": "t", "content": {"x": text}})
    assert matches("m.room.message", "M.Room.MESSAGE")
    assert not matches("m.room.message", "m.room.messages")
    assert not matches("m.room.message", "m_room_message")
    assert matches("s", "\u017f") and matches("K", "\u212a") and matches("ü", "Ü")
    assert not matches("a", "")
    assert matches("", "")


def test_globs_without_wildcards_spend_the_glob_budget():
    # On type "m.room.message": "m.room.other" costs 13 x 15 = 195, "m.room.*" 9 x 15 = 135.
    literal = compile_rule("override", {"rule_id": "a", "actions": [], "conditions": [
        {"kind": "event_match", "key": "type", "pattern": "m.room.other"}]})
    glob = compile_rule("override", {"rule_id": "b", "actions": ["notify"], "conditions": [
        {"kind": "event_match", "key": "type", "pattern": "m.room.*"}]})
    for budget, expected in ((300, None), (330, ("notify",))):
        f = EventFacts({"type": "m.room.message", "content": {}}, member_count=3,
                       sender_level=lambda: 0, notification_level=lambda key: 50,
                       glob_budget=budget)
        assert f.actions_for([literal, glob], ME, lambda: None) == expected, budget


def test_members_with_different_rule_lists_get_their_own_outcomes():
    # Grouped by rule list: an equal copy of the default list, a list whose master rule is
    # enabled, and one with a user rule ahead of the defaults each settle their own members.
    defaults = default_rules()
    master = compile_rule("override", {"rule_id": ".m.rule.master", "conditions": [],
                                       "actions": []})
    mine = compile_rule("underride", {"rule_id": "tea", "actions": [
        "notify", {"set_tweak": "sound", "value": "tea"}], "conditions": [
        {"kind": "event_match", "key": "content.body", "pattern": "tea*"}]})
    by_user = {"@a:x": defaults, "@b:x": list(defaults), "@c:x": [master] + defaults,
               "@d:x": [mine] + defaults, "@e:x": defaults}
    names = {u: None for u in by_user}
    user_name = defaults[-6]
    assert user_name.rule_id == ".m.rule.contains_user_name"
    for body, expected in (
            ("teatime", {"@a:x": ("notify",), "@b:x": ("notify",), "@c:x": (),
                         "@d:x": mine.actions, "@e:x": ("notify",)}),
            ("hi e", {"@a:x": ("notify",), "@b:x": ("notify",), "@c:x": (),
                      "@d:x": ("notify",), "@e:x": user_name.actions})):
        f = facts(message(body), member_count=5)
        assert f.actions_by_user(by_user, lambda: names) == expected, body
