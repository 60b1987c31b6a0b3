"""Push Rules API: GET /pushrules/ (trailing slash), /pushrules/global/, PUT/DELETE of rules with
before/after, enabled and actions; server-default rules cannot be deleted."""

import pytest

V3 = "/_matrix/client/v3"
RULES = f"{V3}/pushrules/global"


def _ids(rules):
    return [r["rule_id"] for r in rules]


def test_default_ruleset(register_user):
    alice = register_user("alice")
    response = alice.get(f"{V3}/pushrules/")
    assert response.status_code == 200
    ruleset = response.get_json()["global"]
    assert set(ruleset) == {"override", "content", "room", "sender", "underride"}
    assert _ids(ruleset["override"])[:4] == [".m.rule.master", ".m.rule.suppress_notices",
                                             ".m.rule.invite_for_me", ".m.rule.member_event"]
    assert ".m.rule.is_user_mention" in _ids(ruleset["override"])
    assert _ids(ruleset["underride"]) == [
        ".m.rule.call", ".m.rule.encrypted_room_one_to_one", ".m.rule.room_one_to_one",
        ".m.rule.message", ".m.rule.encrypted"]
    master = ruleset["override"][0]
    assert master == {"rule_id": ".m.rule.master", "default": True, "enabled": False,
                      "conditions": [], "actions": []}
    invite = next(r for r in ruleset["override"] if r["rule_id"] == ".m.rule.invite_for_me")
    assert {"key": "state_key", "kind": "event_match", "pattern": alice.user_id} in \
        invite["conditions"]
    mention = next(r for r in ruleset["override"] if r["rule_id"] == ".m.rule.is_user_mention")
    assert mention["conditions"][0]["value"] == alice.user_id
    assert ruleset["content"][0]["pattern"] == "alice"
    # The same rule set without the trailing slash, and the global one alone.
    assert alice.get(f"{V3}/pushrules").get_json()["global"] == ruleset
    assert alice.get(f"{RULES}/").get_json() == ruleset
    assert alice.get(RULES).get_json() == ruleset


def test_get_one_rule(register_user):
    alice = register_user("alice")
    rule = alice.get(f"{RULES}/underride/.m.rule.message").get_json()
    assert rule["rule_id"] == ".m.rule.message" and rule["default"] is True
    missing = alice.get(f"{RULES}/override/.m.rule.message")
    assert missing.status_code == 404 and missing.get_json()["errcode"] == "M_NOT_FOUND"
    assert alice.get(f"{RULES}/content/nothing").status_code == 404
    bad_kind = alice.get(f"{RULES}/sideways/x")
    assert bad_kind.status_code == 400 and bad_kind.get_json()["errcode"] == "M_INVALID_PARAM"


def test_create_content_rule_and_ordering(register_user):
    alice = register_user("alice")
    cake = {"pattern": "cake", "actions": ["notify", {"set_tweak": "sound", "value": "cake.wav"}]}
    assert alice.put(f"{RULES}/content/cakerule", json=cake).status_code == 200
    rule = alice.get(f"{RULES}/content/cakerule").get_json()
    assert rule == {"rule_id": "cakerule", "default": False, "enabled": True,
                    "pattern": "cake", "actions": cake["actions"]}
    # A new rule without before/after becomes the most important user rule.
    alice.put(f"{RULES}/content/pie", json={"pattern": "pie", "actions": ["notify"]})
    content = alice.get(RULES).get_json()["content"]
    assert _ids(content) == ["pie", "cakerule", ".m.rule.contains_user_name"]
    # before / after place it relative to another user rule.
    alice.put(f"{RULES}/content/lie?before=cakerule",
              json={"pattern": "cake*lie", "actions": ["notify"]})
    assert _ids(alice.get(RULES).get_json()["content"])[:3] == ["pie", "lie", "cakerule"]
    alice.put(f"{RULES}/content/pie?after=cakerule", json={"pattern": "pie", "actions": []})
    assert _ids(alice.get(RULES).get_json()["content"])[:3] == ["lie", "cakerule", "pie"]
    # Updating in place keeps the position.
    alice.put(f"{RULES}/content/lie", json={"pattern": "lies", "actions": ["notify"]})
    content = alice.get(RULES).get_json()["content"]
    assert _ids(content)[:3] == ["lie", "cakerule", "pie"] and content[0]["pattern"] == "lies"


def test_before_after_errors(register_user):
    alice = register_user("alice")
    body = {"pattern": "x", "actions": ["notify"]}
    missing = alice.put(f"{RULES}/content/x?before=nothere", json=body)
    assert missing.status_code == 400
    default = alice.put(f"{RULES}/content/x?after=.m.rule.contains_user_name", json=body)
    assert default.status_code == 400
    assert alice.get(f"{RULES}/content/x").status_code == 404


def test_override_room_and_sender_rules(register_user):
    alice = register_user("alice")
    beer = {"conditions": [{"kind": "event_match", "key": "content.body", "pattern": "beer"},
                           {"kind": "room_member_count", "is": "<=10"}],
            "actions": ["notify", {"set_tweak": "sound", "value": "beeroclock.wav"}]}
    assert alice.put(f"{RULES}/override/beer", json=beer).status_code == 200
    override = alice.get(RULES).get_json()["override"]
    # User overrides come after the master rule and before the other defaults.
    assert _ids(override)[:3] == [".m.rule.master", "beer", ".m.rule.suppress_notices"]
    assert override[1]["conditions"] == beer["conditions"]
    room = "!dj234r78wl45Gh4D:matrix.org"
    assert alice.put(f"{RULES}/room/{room}", json={"actions": []}).status_code == 200
    assert alice.put(f"{RULES}/sender/@spambot:matrix.org", json={"actions": []}).status_code == 200
    ruleset = alice.get(RULES).get_json()
    assert ruleset["room"] == [{"rule_id": room, "default": False, "enabled": True,
                                "actions": []}]
    assert _ids(ruleset["sender"]) == ["@spambot:matrix.org"]
    # An underride with no conditions is accepted (it always matches).
    assert alice.put(f"{RULES}/underride/all", json={"actions": ["notify"]}).status_code == 200
    assert alice.get(f"{RULES}/underride/all").get_json()["conditions"] == []


@pytest.mark.parametrize("rule_id", [".mine", "back\\slash"])
def test_reserved_rule_ids(register_user, rule_id):
    alice = register_user("alice")
    response = alice.put(f"{RULES}/override/{rule_id}", json={"actions": []})
    assert response.status_code == 400 and response.get_json()["errcode"] == "M_INVALID_PARAM"


@pytest.mark.parametrize("body", [
    {}, {"actions": "notify"}, {"actions": ["explode"]}, {"actions": [1]},
    {"actions": [{"value": "x"}]},
    {"actions": [], "conditions": "all"}, {"actions": [], "conditions": [{"key": "x"}]},
    {"actions": [], "conditions": [{"kind": "event_match", "key": "type"}]},
    {"actions": [], "conditions": [{"kind": "event_property_is", "key": "type", "value": [1]}]},
])
def test_bad_rule_bodies(register_user, body):
    alice = register_user("alice")
    response = alice.put(f"{RULES}/override/r", json=body)
    assert response.status_code == 400 and response.get_json()["errcode"] == "M_BAD_JSON"
    assert alice.get(f"{RULES}/override/r").status_code == 404


def test_content_rule_needs_pattern(register_user):
    alice = register_user("alice")
    response = alice.put(f"{RULES}/content/r", json={"actions": ["notify"]})
    assert response.status_code == 400 and response.get_json()["errcode"] == "M_BAD_JSON"


def test_historical_actions_are_stripped(register_user):
    alice = register_user("alice")
    alice.put(f"{RULES}/sender/@bot:x", json={"actions": ["dont_notify", "coalesce"]})
    assert alice.get(f"{RULES}/sender/@bot:x/actions").get_json() == {"actions": []}


def test_delete(register_user):
    alice = register_user("alice")
    alice.put(f"{RULES}/sender/@bot:x", json={"actions": []})
    assert alice.delete(f"{RULES}/sender/@bot:x").status_code == 200
    assert alice.get(f"{RULES}/sender/@bot:x").status_code == 404
    again = alice.delete(f"{RULES}/sender/@bot:x")
    assert again.status_code == 404 and again.get_json()["errcode"] == "M_NOT_FOUND"
    default = alice.delete(f"{RULES}/override/.m.rule.master")
    assert default.status_code == 400
    assert alice.get(f"{RULES}/override/.m.rule.master").status_code == 200


def test_enabled_and_actions_of_default_and_user_rules(register_user):
    alice = register_user("alice")
    master = f"{RULES}/override/.m.rule.master"
    assert alice.get(f"{master}/enabled").get_json() == {"enabled": False}
    assert alice.put(f"{master}/enabled", json={"enabled": True}).status_code == 200
    assert alice.get(f"{master}/enabled").get_json() == {"enabled": True}
    message = f"{RULES}/underride/.m.rule.message"
    new_actions = ["notify", {"set_tweak": "highlight"}]
    assert alice.put(f"{message}/actions", json={"actions": new_actions}).status_code == 200
    assert alice.get(f"{message}/actions").get_json() == {"actions": new_actions}
    rule = alice.get(message).get_json()
    assert rule["default"] is True and rule["actions"] == new_actions
    alice.put(f"{RULES}/sender/@bot:x", json={"actions": []})
    alice.put(f"{RULES}/sender/@bot:x/enabled", json={"enabled": False})
    assert alice.get(f"{RULES}/sender/@bot:x").get_json()["enabled"] is False
    # Changing the rule keeps it disabled.
    alice.put(f"{RULES}/sender/@bot:x", json={"actions": ["notify"]})
    assert alice.get(f"{RULES}/sender/@bot:x").get_json()["enabled"] is False
    # Another user is unaffected.
    bob = register_user("bob")
    assert bob.get(f"{master}/enabled").get_json() == {"enabled": False}
    assert bob.get(f"{RULES}/sender/@bot:x").status_code == 404


def test_enabled_and_actions_errors(register_user):
    alice = register_user("alice")
    for path in (f"{RULES}/override/nope/enabled", f"{RULES}/override/nope/actions"):
        assert alice.get(path).status_code == 404
    missing = alice.put(f"{RULES}/override/nope/enabled", json={"enabled": True})
    assert missing.status_code == 404 and missing.get_json()["errcode"] == "M_NOT_FOUND"
    master = f"{RULES}/override/.m.rule.master"
    for body in ({}, {"enabled": "yes"}):
        response = alice.put(f"{master}/enabled", json=body)
        assert response.status_code == 400 and response.get_json()["errcode"] == "M_BAD_JSON"
    bad = alice.put(f"{master}/actions", json={"actions": "notify"})
    assert bad.status_code == 400 and bad.get_json()["errcode"] == "M_BAD_JSON"


def test_rules_of_one_kind(register_user):
    """GET /pushrules/global/{kind}/ (Synapse's, not the spec's): the kind's rules in order."""
    alice = register_user("alice")
    body = {"actions": ["notify"], "pattern": "tea"}
    assert alice.put(f"{RULES}/content/tea", json=body).status_code == 200
    assert alice.put(f"{RULES}/content/cake", json=body).status_code == 200
    response = alice.get(f"{RULES}/content/")
    assert response.status_code == 200
    rules = response.get_json()
    assert _ids(rules)[:2] == ["cake", "tea"]
    assert rules == alice.get(f"{RULES}/").get_json()["content"]
    assert _ids(alice.get(f"{RULES}/override/").get_json())[0] == ".m.rule.master"


def test_requires_auth(client):
    response = client.get(f"{V3}/pushrules/")
    assert response.status_code == 401 and response.get_json()["errcode"] == "M_MISSING_TOKEN"


@pytest.mark.parametrize("method,path", [
    ("put", "/"), ("put", "/global"), ("put", "/global/room"), ("put", "/global/room/"),
    ("put", "/not_a_scope/room/x"), ("put", "/global/override/.m.rule.master/not_an_attr"),
    ("get", "/global/room"), ("get", "/not_a_scope/"), ("get", "/global/not_a_template/"),
    ("get", "/global/override/.m.rule.master/not_an_attr"), ("delete", "/global/room"),
])
def test_malformed_push_rule_paths_are_400(register_user, method, path):
    """Within /pushrules/, a path of no rule (missing or unknown parts) is 400 M_UNRECOGNIZED,
    as Synapse; outside it, an unknown path stays 404."""
    alice = register_user("alice")
    response = getattr(alice, method)(f"{V3}/pushrules{path}", json={"enabled": True})
    assert response.status_code == 400 and response.get_json()["errcode"] == "M_UNRECOGNIZED"
    assert alice.get(f"{V3}/pushrulez/global/room").status_code == 404
    assert alice.get(f"{V3}/pushrules/global/override/not_a_rule_id").status_code == 404
    assert alice.get(f"{V3}/pushrules/").status_code == 200


def test_malformed_push_rule_path_requires_auth(client):
    response = client.put(f"{V3}/pushrules/global/room", json={})
    assert response.status_code == 401
