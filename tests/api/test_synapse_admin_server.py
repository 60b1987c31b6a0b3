"""Synapse's admin API for media, registration tokens, event reports and the server version:
server admins only, the shapes and paging of Synapse's docs."""

from homeserver import __version__
from helpers.media import DOWNLOAD, upload
from helpers.api import error, ok
from helpers.rooms import create_room, send_ok
from helpers.synapse_admin import (  # noqa: F401 (root: a fixture)
    EVENT_REPORT, MEDIA_ENTRY, SYNAPSE, TOKEN, forbidden, q, root)

V3 = "/_matrix/client/v3"


def test_server_version_needs_no_token(client):
    assert ok(client.get(f"{SYNAPSE}/v1/server_version")) == {"server_version": __version__}


def test_non_admins_get_403(client, register_user):
    alice = register_user("alice")
    uid = q(alice.user_id)
    for method, path in (("GET", f"/v1/users/{uid}/media"), ("DELETE", f"/v1/users/{uid}/media"),
                         ("DELETE", "/v1/media/localhost:8008/abc"),
                         ("POST", "/v1/media/quarantine/localhost:8008/abc"),
                         ("POST", "/v1/media/unquarantine/localhost:8008/abc"),
                         ("POST", f"/v1/user/{uid}/media/quarantine"),
                         ("GET", "/v1/registration_tokens"),
                         ("POST", "/v1/registration_tokens/new"),
                         ("GET", "/v1/registration_tokens/abc"),
                         ("PUT", "/v1/registration_tokens/abc"),
                         ("DELETE", "/v1/registration_tokens/abc"),
                         ("GET", "/v1/event_reports"), ("GET", "/v1/event_reports/1"),
                         ("DELETE", "/v1/event_reports/1")):
        forbidden(alice.request(method, SYNAPSE + path, json={}))
        assert client.open(SYNAPSE + path, method=method).status_code == 401


def test_user_media_paging_delete_and_quarantine(register_user, root):
    alice = register_user("alice")
    refs = [upload(alice, f"file {n}".encode(), "text/plain", f"f{n}.txt") for n in range(3)]
    uid = q(alice.user_id)
    page = ok(root.get(f"{SYNAPSE}/v1/users/{uid}/media?limit=2"))
    assert page["total"] == 3 and page["next_token"] == 2
    assert set(page["media"][0]) == MEDIA_ENTRY
    rest = ok(root.get(f"{SYNAPSE}/v1/users/{uid}/media?from=2"))
    assert "next_token" not in rest
    listed = [m["media_id"] for m in page["media"] + rest["media"]]
    assert sorted(listed) == sorted(ref.split("/")[1] for ref in refs)
    by_name = ok(root.get(f"{SYNAPSE}/v1/users/{uid}/media?order_by=upload_name&dir=b"))
    assert [m["upload_name"] for m in by_name["media"]] == ["f2.txt", "f1.txt", "f0.txt"]
    assert by_name["media"][0]["media_length"] == 6
    assert by_name["media"][0]["media_type"] == "text/plain"

    ok(root.post(f"{SYNAPSE}/v1/media/quarantine/{refs[0]}"))
    assert alice.get(f"{DOWNLOAD}/{refs[0]}").status_code == 404
    entry = next(m for m in ok(root.get(f"{SYNAPSE}/v1/users/{uid}/media"))["media"]
                 if m["media_id"] == refs[0].split("/")[1])
    assert entry["quarantined_by"] == root.user_id
    ok(root.post(f"{SYNAPSE}/v1/media/unquarantine/{refs[0]}"))
    assert alice.get(f"{DOWNLOAD}/{refs[0]}").status_code == 200
    assert ok(root.post(f"{SYNAPSE}/v1/user/{uid}/media/quarantine")) == {"num_quarantined": 3}
    assert alice.get(f"{DOWNLOAD}/{refs[1]}").status_code == 404

    deleted = ok(root.delete(f"{SYNAPSE}/v1/media/{refs[2]}"))
    assert deleted == {"deleted_media": [refs[2].split("/")[1]], "total": 1}
    error(root.delete(f"{SYNAPSE}/v1/media/{refs[2]}"), 404, "M_NOT_FOUND")
    error(root.delete(f"{SYNAPSE}/v1/media/elsewhere.org/abc"), 400, "M_INVALID_PARAM")
    gone = ok(root.delete(f"{SYNAPSE}/v1/users/{uid}/media"))
    assert gone["total"] == 2
    assert ok(root.get(f"{SYNAPSE}/v1/users/{uid}/media"))["total"] == 0
    error(root.get(f"{SYNAPSE}/v1/users/{q('@ghost:localhost:8008')}/media"), 404, "M_NOT_FOUND")
    assert root.get(f"{SYNAPSE}/v1/users/{uid}/media?order_by=size").status_code == 400


def test_registration_tokens_crud(client, root):
    created = ok(root.post(f"{SYNAPSE}/v1/registration_tokens/new",
                           json={"token": "abc_1", "uses_allowed": 1}))
    assert created == {"token": "abc_1", "uses_allowed": 1, "pending": 0, "completed": 0,
                       "expiry_time": None}
    random = ok(root.post(f"{SYNAPSE}/v1/registration_tokens/new", json={"length": 10}))
    assert set(random) == TOKEN and len(random["token"]) == 10
    error(root.post(f"{SYNAPSE}/v1/registration_tokens/new", json={"token": "abc_1"}), 400,
          "M_INVALID_PARAM")
    error(root.post(f"{SYNAPSE}/v1/registration_tokens/new", json={"token": "bad token"}), 400,
          "M_INVALID_PARAM")
    error(root.post(f"{SYNAPSE}/v1/registration_tokens/new", json={"expiry_time": 1}), 400,
          "M_INVALID_PARAM")
    assert ok(root.get(f"{SYNAPSE}/v1/registration_tokens/abc_1")) == created
    changed = ok(root.put(f"{SYNAPSE}/v1/registration_tokens/abc_1",
                          json={"uses_allowed": 0, "expiry_time": None}))
    assert changed["uses_allowed"] == 0
    listed = ok(root.get(f"{SYNAPSE}/v1/registration_tokens"))["registration_tokens"]
    assert {t["token"] for t in listed} == {"abc_1", random["token"]}
    invalid = ok(root.get(f"{SYNAPSE}/v1/registration_tokens?valid=false"))
    assert [t["token"] for t in invalid["registration_tokens"]] == ["abc_1"]
    assert client.get("/_matrix/client/v1/register/m.login.registration_token/validity?token=abc_1"
                      ).get_json() == {"valid": False}
    ok(root.delete(f"{SYNAPSE}/v1/registration_tokens/abc_1"))
    error(root.get(f"{SYNAPSE}/v1/registration_tokens/abc_1"), 404, "M_NOT_FOUND")
    error(root.delete(f"{SYNAPSE}/v1/registration_tokens/abc_1"), 404, "M_NOT_FOUND")
    error(root.put(f"{SYNAPSE}/v1/registration_tokens/nope", json={}), 404, "M_NOT_FOUND")


def test_event_reports(register_user, root):
    alice, bob = register_user("alice"), register_user("bob")
    room = create_room(alice, name="Lobby", preset="public_chat")
    ok(bob.post(f"{V3}/join/{q(room)}"))
    events = [send_ok(alice, room, f"spam {n}") for n in range(3)]
    for event_id in events:
        ok(bob.post(f"{V3}/rooms/{q(room)}/report/{q(event_id)}", json={"reason": "spam"}))
    page = ok(root.get(f"{SYNAPSE}/v1/event_reports?limit=2"))
    assert page["total"] == 3 and page["next_token"] == 2
    newest = page["event_reports"][0]
    assert set(newest) == EVENT_REPORT
    assert newest["event_id"] == events[2] and newest["user_id"] == bob.user_id
    assert newest["sender"] == alice.user_id and newest["name"] == "Lobby"
    oldest = ok(root.get(f"{SYNAPSE}/v1/event_reports?dir=f&limit=1"))["event_reports"][0]
    assert oldest["event_id"] == events[0]
    assert ok(root.get(f"{SYNAPSE}/v1/event_reports?user_id={q(alice.user_id)}"))["total"] == 0
    assert ok(root.get(f"{SYNAPSE}/v1/event_reports?room_id={q(room)}"))["total"] == 3
    detail = ok(root.get(f"{SYNAPSE}/v1/event_reports/{newest['id']}"))
    assert detail["event_json"]["content"]["body"] == "spam 2"
    ok(root.delete(f"{SYNAPSE}/v1/event_reports/{newest['id']}"))
    error(root.get(f"{SYNAPSE}/v1/event_reports/{newest['id']}"), 404, "M_NOT_FOUND")
    error(root.get(f"{SYNAPSE}/v1/event_reports/x1"), 400, "M_INVALID_PARAM")
