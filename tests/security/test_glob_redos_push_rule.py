"""Attack: a push rule whose glob makes a backtracking regex engine take exponential time.

``*a*a*a...*b`` against a long run of ``a`` (no ``b``) was a Python regular expression with a
lazy ``.*?`` per star: matching took time growing like len(body) ** stars, inside the event
writer's transaction while the stream position was locked, so one message froze every write
of the server. Globs are now RE2 expressions (services/globs.py): linear in the text.

The attack is sent for real (rule through PUT /pushrules, message through /send) with a body
long enough that the old engine would never finish; the outcome is checked, not the time.
``cpu_guard`` only turns a hang into a failure: after 120 s of CPU (the fixed code needs
milliseconds) it interrupts the test.
"""

from sync_support import V3, ok, send

from homeserver.services import globs
from homeserver.services.push.evaluator import EventFacts, compile_rule

RULES = f"{V3}/pushrules/global"
EVIL = "*a" * 12 + "*b"  # 25 wildcards: within the default limit of 50
TWEAK = {"set_tweak": "sound", "value": "evil-rule"}


def _tweaked(bob) -> dict:
    """event ID -> whether the evil rule's tweak is in bob's notification for it."""
    notifications = ok(bob.get(f"{V3}/notifications"))["notifications"]
    return {n["event"]["event_id"]: TWEAK in n["actions"] for n in notifications}


def test_content_rule_backtracking_pattern(room, cpu_guard):
    room_id, alice, bob = room
    ok(bob.put(f"{RULES}/content/evil", json={"pattern": EVIL, "actions": ["notify", TWEAK]}))

    long_miss = send(alice, room_id, "a" * 60000)
    hit = send(alice, room_id, "a" * 30 + "b")
    late_hit = send(alice, room_id, "a" * 59000 + " " + "aaaaaaaaaaaab")
    word_miss = send(alice, room_id, "aaaaaaaaaaaaab" + "c")  # no word boundary after the b

    tweaked = _tweaked(bob)
    assert tweaked[hit] and tweaked[late_hit]
    # The long message is not matched by the rule but still notifies by the default rules.
    assert tweaked[long_miss] is False and tweaked[word_miss] is False
    # Other writes went on: alice can still send.
    send(alice, room_id, "still alive")


def test_event_match_condition_backtracking_pattern(room, cpu_guard):
    room_id, alice, bob = room
    rule = {"conditions": [{"kind": "event_match", "key": "content.evil", "pattern": EVIL}],
            "actions": ["notify", TWEAK]}
    ok(bob.put(f"{RULES}/override/evil", json=rule))

    long_miss = send(alice, room_id, "hi", evil="a" * 60000)
    hit = send(alice, room_id, "hi", evil="A" * 40 + "B")  # case-insensitive, whole value
    miss = send(alice, room_id, "hi", evil="a" * 40 + "bc")  # must match the whole value

    tweaked = _tweaked(bob)
    assert tweaked == {long_miss: False, hit: True, miss: False}


def test_every_push_glob_is_a_linear_matcher():
    """The evaluator's globs come from services/globs.py, whose compiled form is RE2."""
    for matcher in (globs.push_glob(EVIL), globs.push_word_glob(EVIL),
                    globs.word_literal("Bob (the builder)")):
        assert type(matcher._regexp).__module__ == "re2"
    facts = EventFacts({"type": "m.room.message", "content": {"body": "a" * 60000}},
                       member_count=2, sender_level=lambda: 0, notification_level=lambda k: 50)
    rule = compile_rule("content", {"rule_id": "evil", "pattern": EVIL, "actions": ["notify"]})
    assert facts.actions_for([rule], "@bob:x", lambda: None) is None


def test_glob_semantics_kept():
    """Spec semantics: * any run, ? one character, case-insensitive, word boundaries on
    content.body (word characters [A-Za-z0-9_]), whole value elsewhere."""
    word = globs.push_word_glob
    assert word("ex*ple").matches("An exciting triple-whammy")
    assert not word("ex*ple").matches("examples") and not word("ex*ple").matches("example_x")
    assert word("@room").matches("hey @room!") and not word("@room").matches("x@roomy")
    assert word("caf?").matches("Un CAFÉ noir") and not word("caf?").matches("cafés")
    assert word("a?c").matches("x\na\nc\ny") and word("*").matches("")
    whole = globs.push_glob
    assert whole("m.room.*").matches("M.ROOM.MESSAGE") and not whole("m.room").matches("m.rooms")
    assert whole("a.b").matches("a.b") and not whole("a.b").matches("aXb")  # . is literal
    assert whole("[ab]").matches("[AB]") and not whole("[ab]").matches("a")
    assert whole("?").matches("\ud800")  # a lone surrogate (JSON can carry one) is a character
