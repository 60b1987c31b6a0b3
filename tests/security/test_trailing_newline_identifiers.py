"""Identifiers ending in a newline: Python's ``$`` also matches before a final "\\n", so grammars
written ``^...$`` let "alice\\n" through. SyTest's "POST /register rejects registration of
usernames with '\\n'" found it: the account @alice\\n:server was created. Every grammar now ends
in ``\\Z``; these requests must be refused as the same identifier without the newline is not."""

from __future__ import annotations

from homeserver.identifiers import is_valid_localpart, is_valid_server_name, is_valid_user_id


def test_register_refuses_localpart_with_trailing_newline(client):
    response = client.post("/_matrix/client/v3/register", json={
        "username": "mallory\n", "password": "correct horse battery",
        "auth": {"type": "m.login.dummy"}})
    assert response.status_code == 400
    assert response.get_json()["errcode"] == "M_INVALID_USERNAME"
    available = client.get("/_matrix/client/v3/register/available",
                           query_string={"username": "mallory\n"})
    assert available.status_code == 400


def test_grammars_refuse_a_trailing_newline():
    assert is_valid_localpart("alice") and not is_valid_localpart("alice\n")
    assert is_valid_server_name("example.org") and not is_valid_server_name("example.org\n")
    assert not is_valid_user_id("@alice:example.org\n")
    assert not is_valid_user_id("@alice\n:example.org", historical=False)


def test_sync_token_with_trailing_newline_is_refused(register_user):
    alice = register_user("alice")
    first = alice.get("/_matrix/client/v3/sync").get_json()["next_batch"]
    response = alice.get("/_matrix/client/v3/sync", query_string={"since": first + "\n"})
    assert response.status_code == 400

