"""Attack: push rules that make every event in a user's rooms expensive to evaluate.

Push rules are evaluated inside the event writer's transaction while the stream position is
locked, so their cost is paid by every write of the server. Bounded at the API: glob length
and wildcards (400 M_INVALID_PARAM), conditions per rule (400 M_INVALID_PARAM), rules per user
(403 M_USER_LIMIT_EXCEEDED); at evaluation: the glob work one user's rules may spend on one
event (push.glob_work_budget). And a change of one user's rules recompiles only theirs.
"""

from urllib.parse import quote

import pytest

from sync_support import V3, create_room, join, ok, send

from homeserver import db
from homeserver.migrations import m0100_push_rules_per_user as migration
from homeserver.models.push import PushRule, PushRuleDefaultSetting, PushRulesUserVersion
from homeserver.services.push import rules as push_rules
from homeserver.services.push.evaluator import EventFacts, compile_rule

RULES = f"{V3}/pushrules/global"
TWEAK = {"set_tweak": "sound", "value": "own-rule"}


def _error(response, status, errcode):
    assert response.status_code == status, response.get_json()
    assert response.get_json()["errcode"] == errcode
    return response.get_json()


def _register(client, name):
    token = ok(client.post(f"{V3}/register", json={
        "username": name, "password": "correct horse battery",
        "auth": {"type": "m.login.dummy"}}))["access_token"]
    return {"Authorization": f"Bearer {token}"}


def test_pattern_length_and_wildcards_are_bounded(register_user):
    bob = register_user("bob")
    too_many = "*a" * 25 + "a?" * 26  # 51 wildcards (default limit 50)
    too_long = "x" * 1001  # default limit 1000 characters
    for pattern in (too_many, too_long):
        _error(bob.put(f"{RULES}/content/evil", json={"pattern": pattern, "actions": []}),
               400, "M_INVALID_PARAM")
        condition = {"kind": "event_match", "key": "content.body", "pattern": pattern}
        _error(bob.put(f"{RULES}/override/evil", json={"conditions": [condition],
                                                       "actions": []}), 400, "M_INVALID_PARAM")
    ok(bob.put(f"{RULES}/content/fine", json={"pattern": "*a?" * 25, "actions": []}))
    ok(bob.put(f"{RULES}/content/long", json={"pattern": "y" * 1000, "actions": []}))
    # What real clients set: keywords, a room's rule, event_match on types.
    ok(bob.put(f"{RULES}/content/keyword", json={"pattern": "cake", "actions": ["notify"]}))
    ok(bob.put(f"{RULES}/override/types", json={"conditions": [
        {"kind": "event_match", "key": "type", "pattern": "m.call.*"}], "actions": []}))
    rules = ok(bob.get(f"{RULES}/"))["content"]
    assert [r["rule_id"] for r in rules if not r["default"]] == ["keyword", "long", "fine"]


def test_conditions_per_rule_are_bounded(register_user):
    bob = register_user("bob")
    condition = {"kind": "event_match", "key": "type", "pattern": "m.room.message"}
    _error(bob.put(f"{RULES}/override/many", json={"conditions": [condition] * 51,
                                                   "actions": []}), 400, "M_INVALID_PARAM")
    ok(bob.put(f"{RULES}/override/many", json={"conditions": [condition] * 50, "actions": []}))


def test_limits_are_configurable(make_app):
    client = make_app(push={"max_pattern_length": 10, "max_pattern_wildcards": 2,
                            "max_conditions_per_rule": 1}).test_client()
    headers = _register(client, "bob")
    put = lambda path, body: client.put(f"{RULES}/{path}", json=body, headers=headers)  # noqa
    _error(put("content/a", {"pattern": "a*b*c*", "actions": []}), 400, "M_INVALID_PARAM")
    _error(put("content/a", {"pattern": "abcdefghijk", "actions": []}), 400, "M_INVALID_PARAM")
    ok(put("content/a", {"pattern": "a*b?", "actions": []}))
    cond = {"kind": "room_member_count", "is": "2"}
    _error(put("override/a", {"conditions": [cond, cond], "actions": []}), 400,
           "M_INVALID_PARAM")


def test_rules_per_user_are_bounded(make_app):
    client = make_app(push={"max_rules_per_user": 3}).test_client()
    headers = _register(client, "bob")
    put = lambda path, body: client.put(f"{RULES}/{path}", json=body, headers=headers)  # noqa
    ok(put("content/one", {"pattern": "one", "actions": []}))
    ok(put("override/two", {"conditions": [], "actions": []}))
    ok(put("room/!r:localhost:8008", {"actions": ["notify"]}))
    _error(put("underride/four", {"conditions": [], "actions": []}), 403,
           "M_USER_LIMIT_EXCEEDED")
    # Replacing a rule, or changing a server-default one, is not a new rule.
    ok(put("content/one", {"pattern": "uno", "actions": ["notify"]}))
    ok(put("override/.m.rule.master/enabled", {"enabled": True}))
    ok(client.delete(f"{RULES}/content/one", headers=headers))
    ok(put("underride/four", {"conditions": [], "actions": []}))
    # Other users have their own allowance.
    other = _register(client, "carol")
    ok(client.put(f"{RULES}/content/one", json={"pattern": "one", "actions": []},
                  headers=other))


def test_glob_work_per_event_is_bounded(make_app):
    """Past push.glob_work_budget, a user's own wildcard rules stop matching for that event;
    the server-default rules (mentions) still apply."""
    client = make_app(push={"glob_work_budget": 20_000}).test_client()
    alice, bob = _register(client, "alice"), _register(client, "bob")
    room_id = ok(client.post(f"{V3}/createRoom", json={"preset": "public_chat"},
                             headers=alice))["room_id"]
    ok(client.post(f"{V3}/join/{quote(room_id)}", json={}, headers=bob))
    ok(client.put(f"{RULES}/content/star", json={"pattern": "*hello*",
                                                 "actions": ["notify", TWEAK]}, headers=bob))

    def send_body(body, txn):
        return ok(client.put(f"{V3}/rooms/{quote(room_id)}/send/m.room.message/{txn}",
                             json={"msgtype": "m.text", "body": body}, headers=alice))["event_id"]

    short = send_body("hello there", "t1")  # 8 x 12 units: within the budget
    long = send_body("hello bob " + "z " * 3000, "t2")  # 8 x 6011 units: past it
    notifications = ok(client.get(f"{V3}/notifications", headers=bob))["notifications"]
    actions = {n["event"]["event_id"]: n["actions"] for n in notifications}
    assert TWEAK in actions[short]
    assert TWEAK not in actions[long] and "notify" in actions[long]  # the default rules
    mention = send_body("hello bob " + "z " * 3000, "t3")
    notifications = ok(client.get(f"{V3}/notifications", headers=bob))["notifications"]
    assert any(n["event"]["event_id"] == mention for n in notifications)


def test_budget_spares_server_default_rules():
    facts = EventFacts({"type": "m.room.message", "content": {"body": "hey @room " * 500}},
                       member_count=3, sender_level=lambda: 100,
                       notification_level=lambda key: 50, glob_budget=0)
    own = compile_rule("content", {"rule_id": "x", "pattern": "*hey*", "actions": ["notify"]})
    roomnotif = compile_rule("override", {
        "rule_id": ".m.rule.roomnotif", "actions": ["notify", {"set_tweak": "highlight"}],
        "conditions": [{"kind": "event_match", "key": "content.body", "pattern": "@room"},
                       {"kind": "sender_notification_permission", "key": "room"}]})
    assert facts.actions_for([own], "@bob:x", lambda: None) is None
    assert facts.actions_for([own, roomnotif], "@bob:x", lambda: None) == roomnotif.actions


def test_a_change_recompiles_only_that_users_rules(register_user):
    alice, bob, carol = register_user("alice"), register_user("bob"), register_user("carol")
    for user in (alice, bob):
        ok(user.put(f"{RULES}/content/word", json={"pattern": "word", "actions": []}))
    first = push_rules.compiled_rules_for([alice.user_id, bob.user_id, carol.user_id])
    ok(bob.put(f"{RULES}/content/other", json={"pattern": "other", "actions": []}))
    second = push_rules.compiled_rules_for([alice.user_id, bob.user_id, carol.user_id])
    assert second[alice.user_id] is first[alice.user_id]  # kept compiled
    assert second[bob.user_id] is not first[bob.user_id]
    assert "other" in [r.rule_id for r in second[bob.user_id]]
    assert second[carol.user_id] is first[carol.user_id]  # the shared default list
    # A room's events see the change at once.
    room_id = create_room(alice, preset="public_chat")
    join(bob, room_id)
    ok(bob.put(f"{RULES}/content/loud", json={"pattern": "loud", "actions": ["notify", TWEAK]}))
    event_id = send(alice, room_id, "so loud")
    notifications = ok(bob.get(f"{V3}/notifications"))["notifications"]
    assert [TWEAK in n["actions"] for n in notifications if n["event"]["event_id"] == event_id] \
        == [True]


@pytest.mark.parametrize("change", ["enabled", "actions", "delete"])
def test_every_kind_of_change_reaches_the_cache(register_user, change):
    alice, bob = register_user("alice"), register_user("bob")
    ok(bob.put(f"{RULES}/content/word", json={"pattern": "word", "actions": ["notify"]}))
    before = push_rules.compiled_rules_for([bob.user_id])[bob.user_id]
    assert "word" in [r.rule_id for r in before]
    if change == "enabled":
        ok(bob.put(f"{RULES}/content/word/enabled", json={"enabled": False}))
    elif change == "actions":
        ok(bob.put(f"{RULES}/content/word/actions", json={"actions": []}))
    else:
        ok(bob.delete(f"{RULES}/content/word"))
    after = push_rules.compiled_rules_for([alice.user_id, bob.user_id])[bob.user_id]
    word = [r for r in after if r.rule_id == "word"]
    assert word == [] if change != "actions" else word[0].actions == ()


def test_migration_records_users_who_customized_before(app):
    """m0100 gives every user with rules from before it a version row (so caches load them)."""
    with app.app_context(), db.database.obj.connection_context():
        PushRule.create(user_id="@old:x", kind="content", rule_id="w", priority=0,
                        pattern="w", actions="[]")
        PushRuleDefaultSetting.create(user_id="@older:x", rule_id=".m.rule.master",
                                      enabled=True)
        migration.up(db.database.obj)
        migration.up(db.database.obj)  # idempotent
        rows = {r.user_id: r.seq for r in PushRulesUserVersion.select()}
    assert rows == {"@old:x": 0, "@older:x": 0}
