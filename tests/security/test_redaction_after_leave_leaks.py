"""Attack: a user who left a room reads, in ``unsigned.redacted_because`` of an event they could
see, the redaction event sent after they left (its reason and content). They now get that
redaction only in its redacted form: still marked redacted, nothing of what it said."""

from helpers.api import V3, ok, q
from helpers.rooms import get_event, leave, redact, room_with_members, send_ok


def test_redaction_after_leave_is_served_redacted(register_user):
    room_id, (alice, bob) = room_with_members(register_user, "alice", "bob")
    message = send_ok(bob, room_id, "regrettable")
    leave(bob, room_id)
    redaction = ok(redact(alice, room_id, message, reason="moderator's private note"))["event_id"]

    seen = ok(get_event(bob, room_id, message))
    because = seen["unsigned"]["redacted_because"]
    assert because["event_id"] == redaction and because["type"] == "m.room.redaction"
    assert "reason" not in because["content"]
    assert "moderator's private note" not in str(seen)
    page = ok(bob.get(f"{V3}/rooms/{q(room_id)}/messages?dir=b&limit=20"))["chunk"]
    assert message in [e["event_id"] for e in page]
    assert "moderator's private note" not in str(page)
    # The redaction itself stays out of reach.
    assert get_event(bob, room_id, redaction).status_code == 404

    # A member who may see the redaction gets it whole.
    theirs = ok(get_event(alice, room_id, message))["unsigned"]["redacted_because"]
    assert theirs["content"]["reason"] == "moderator's private note"


def test_own_redaction_before_leaving_stays_whole(register_user):
    room_id, (alice, bob) = room_with_members(register_user, "alice", "bob")
    message = send_ok(bob, room_id, "oops")
    ok(redact(bob, room_id, message, reason="typo"))
    leave(bob, room_id)
    because = ok(get_event(bob, room_id, message))["unsigned"]["redacted_because"]
    assert because["content"]["reason"] == "typo"
