"""Attack: a user who joined after an account was erased asks /sync for events
in the federation format (filter ``event_format: federation``), which served the stored PDUs
as they are, bypassing the redaction of erased users' events that the client format applies."""

import json

from helpers.api import V3, ok, q
from helpers.rooms import join, room_with_members, send_ok
from helpers.sync import sync
from helpers.accounts import deactivate

FEDERATION = {"event_format": "federation", "room": {"timeline": {"limit": 50}}}


def test_federation_format_serves_erased_events_redacted(register_user):
    room_id, (alice, bob) = room_with_members(register_user, "alice", "bob",
                                              preset="public_chat")
    ok(alice.put(f"{V3}/rooms/{q(room_id)}/state/m.room.history_visibility/",
                 json={"history_visibility": "shared"}))
    send_ok(bob, room_id, "bob's secret")
    send_ok(alice, room_id, "alice's words")
    deactivate(bob, erase=True)

    carol = register_user("carol")
    join(carol, room_id)
    response = sync(carol, filter=FEDERATION)
    events = response["rooms"]["join"][room_id]["timeline"]["events"]
    bodies = [e["content"].get("body") for e in events if e["type"] == "m.room.message"]
    assert "alice's words" in bodies
    assert "bob's secret" not in json.dumps(response)
    from_bob = [e for e in events if e["type"] == "m.room.message" and e["sender"] == bob.user_id]
    assert from_bob and all(e["content"] == {} for e in from_bob)
    assert all("hashes" in e for e in from_bob)  # still the federation (PDU) shape

    # Alice was there before the erasure: she keeps the original, in either format.
    theirs = sync(alice, filter=FEDERATION)
    assert "bob's secret" in json.dumps(theirs)
