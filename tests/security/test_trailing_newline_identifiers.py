"""Attack: a trailing newline in identifiers. The grammars were written ``^...$`` and used with
``re.match``; Python's ``$`` also matches before a final newline, so ``admin\\n`` registered as
a second "admin", ``@alice:server\\n`` passed as a user ID of a server named ``server\\n`` (a ban
event for it was stored), and ``s5\\n`` was a sync token. Every grammar is now matched whole
(``fullmatch``), with ASCII digits only."""

import pytest

from helpers.api import V3, error, ok, q
from helpers.rooms import create_room
from helpers.sync import sync_path
from homeserver import identifiers
from homeserver.identifiers import is_valid_localpart, is_valid_server_name, is_valid_user_id
from homeserver.services.media import ids
from homeserver.services.media.repository import normalize_content_type


@pytest.mark.parametrize("username", ["admin\n", "admin\r\n", "admin\n\n", "\nadmin"])
def test_register_with_newline_in_username_is_refused(client, register_user, username):
    body = {"username": username, "password": "correct horse battery",
            "auth": {"type": "m.login.dummy"}}
    error(client.post(f"{V3}/register", json=body), 400, "M_INVALID_USERNAME")
    error(client.get(f"{V3}/register/available?username={q(username)}"), 400,
          "M_INVALID_USERNAME")
    # The real name is still free.
    assert register_user("admin").user_id == "@admin:localhost:8008"


def test_user_ids_with_trailing_newline_are_not_user_ids(register_user):
    alice = register_user("alice")
    bob = register_user("bob")
    room_id = create_room(alice, preset="public_chat")
    for forged in (bob.user_id + "\n", "@bob\n:localhost:8008"):
        if forged.endswith("\n"):
            # A user ID naming a server "localhost:8008\n": no user ID at all.
            error(alice.post(f"{V3}/rooms/{q(room_id)}/invite", json={"user_id": forged}),
                  400, "M_INVALID_PARAM")
            error(alice.post(f"{V3}/rooms/{q(room_id)}/ban", json={"user_id": forged}),
                  400, "M_INVALID_PARAM")
            error(alice.get(f"{V3}/profile/{q(forged)}"), 400, "M_INVALID_PARAM")
        else:
            # A historical-grammar localpart on this server: no such user.
            response = alice.post(f"{V3}/rooms/{q(room_id)}/invite", json={"user_id": forged})
            assert response.status_code == 404, response.get_json()
    state = ok(alice.get(f"{V3}/rooms/{q(room_id)}/state"))
    assert {e["state_key"] for e in state if e["type"] == "m.room.member"} == {alice.user_id}


def test_sync_and_pagination_tokens_with_trailing_newline_are_refused(register_user):
    alice = register_user("alice")
    since = ok(alice.get(sync_path()))["next_batch"]
    error(alice.get(sync_path(since=since + "\n")), 400, "M_INVALID_PARAM")
    room_id = create_room(alice)
    response = alice.get(f"{V3}/rooms/{q(room_id)}/messages?dir=b&from={q(since + chr(10))}")
    error(response, 400, "M_INVALID_PARAM")


def test_alias_on_a_server_with_trailing_newline_is_refused(register_user):
    alice = register_user("alice")
    room_id = create_room(alice)
    response = alice.put(f"{V3}/directory/room/{q('#room:localhost:8008' + chr(10))}",
                         json={"room_id": room_id})
    assert response.status_code == 400, response.get_json()
    assert not identifiers.is_valid_room_alias("#room:localhost:8008\n")


@pytest.mark.parametrize("value", [
    "localhost\n", "localhost:8008\n", "1.2.3.4\n", "[::1]\n", "example.org:\u0668\u0660",
    "\u0661\u0662\u0667.0.0.1"])
def test_grammars_match_whole_ascii_strings(value):
    assert not identifiers.is_valid_server_name(value)
    assert not identifiers.is_valid_user_id(f"@alice:{value}")
    assert not identifiers.is_valid_localpart("alice\n")
    assert not ids.is_valid_media_id("abc\n")
    assert normalize_content_type("text/plain; a=b\nX-Injected: 1") == "application/octet-stream"
    assert normalize_content_type("text/plain\n; a=b") == "application/octet-stream"


def test_grammars_refuse_a_trailing_newline():
    assert is_valid_localpart("alice") and not is_valid_localpart("alice\n")
    assert is_valid_server_name("example.org") and not is_valid_server_name("example.org\n")
    assert not is_valid_user_id("@alice:example.org\n")
    assert not is_valid_user_id("@alice\n:example.org", historical=False)
