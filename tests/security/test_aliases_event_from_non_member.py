"""Attack: in room versions 1-5 the auth rule for m.room.aliases only checks that the state_key
is the sender's server, so any user of this server could append (and so overwrite) the room's
m.room.aliases state without being in the room. Like Synapse, the client API now requires the
sender to be joined."""

import pytest

from helpers.api import error, ok
from helpers.rooms import create_room, join, put_state, state_map

SERVER = "localhost:8008"


@pytest.mark.parametrize("version", ["1", "5"])
def test_non_member_cannot_set_aliases(register_user, version):
    alice = register_user("alice")
    eve = register_user("eve")
    room_id = create_room(alice, room_version=version, preset="public_chat")
    spoof = {"aliases": ["#spoofed:localhost:8008"]}
    error(put_state(eve, room_id, "m.room.aliases", spoof, SERVER), 403, "M_FORBIDDEN")
    assert ("m.room.aliases", SERVER) not in state_map(alice, room_id)
    # A member may (the v1-5 rule itself is unchanged).
    join(eve, room_id)
    ok(put_state(eve, room_id, "m.room.aliases", spoof, SERVER))
    ok(eve.post(f"/_matrix/client/v3/rooms/{room_id}/leave", json={}))
    error(put_state(eve, room_id, "m.room.aliases", {"aliases": []}, SERVER), 403, "M_FORBIDDEN")
    content = state_map(alice, room_id)[("m.room.aliases", SERVER)]["content"]
    assert content == spoof
