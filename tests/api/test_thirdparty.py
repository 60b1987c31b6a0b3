"""Third-party lookups on a server without bridges."""

from urllib.parse import quote

import pytest

from helpers.api import error, ok
from helpers.rooms import create_room

TP = "/_matrix/client/v3/thirdparty"


def test_no_protocols(register_user):
    alice = register_user("alice")
    assert ok(alice.get(f"{TP}/protocols")) == {}


@pytest.mark.parametrize("path", ["protocol/irc", "location/irc", "user/irc",
                                  "location/irc?channel=%23matrix", "user/gitter?x=y"])
def test_unknown_protocol_lookups_find_nothing(register_user, path):
    alice = register_user("alice")
    error(alice.get(f"{TP}/{path}"), 404, "M_NOT_FOUND")


def test_reverse_lookups(register_user):
    alice = register_user("alice")
    create_room(alice, room_alias_name="portal")
    assert ok(alice.get(f"{TP}/location?alias={quote('#portal:localhost:8008')}")) == []
    error(alice.get(f"{TP}/location?alias={quote('#nothere:localhost:8008')}"), 404,
          "M_NOT_FOUND")
    error(alice.get(f"{TP}/location"), 400, "M_MISSING_PARAM")
    error(alice.get(f"{TP}/location?alias=portal"), 400, "M_INVALID_PARAM")

    assert ok(alice.get(f"{TP}/user?userid={quote(alice.user_id)}")) == []
    error(alice.get(f"{TP}/user?userid={quote('@nobody:localhost:8008')}"), 404, "M_NOT_FOUND")
    error(alice.get(f"{TP}/user"), 400, "M_MISSING_PARAM")


@pytest.mark.parametrize("path", ["protocols", "protocol/irc", "location?alias=%23a%3Ab",
                                  "user?userid=%40a%3Ab"])
def test_lookups_need_a_token(client, path):
    error(client.get(f"{TP}/{path}"), 401, "M_MISSING_TOKEN")
