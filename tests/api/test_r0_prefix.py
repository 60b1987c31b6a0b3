"""The r0 prefix (homeserver/api/r0_prefix.py): a client written against r0 creates a room,
sends, syncs and reads the event stream at /_matrix/client/r0; what r0 never had (knock,
refresh, the v1 endpoints) is 404 M_UNRECOGNIZED there; /versions lists the r0 releases."""

from urllib.parse import quote

from helpers.api import error, ok, q

R0 = "/_matrix/client/r0"


def test_a_client_on_r0(alice, bob):
    room = ok(alice.post(f"{R0}/createRoom", json={"preset": "public_chat"}))["room_id"]
    ok(bob.post(f"{R0}/join/{q(room)}", json={}))
    since = ok(bob.get(f"{R0}/sync?timeout=0"))["next_batch"]
    token = ok(bob.get(f"{R0}/events?timeout=0"))["end"]
    sent = ok(alice.put(f"{R0}/rooms/{q(room)}/send/m.room.message/t1",
                        json={"msgtype": "m.text", "body": "hi"}))["event_id"]
    timeline = ok(bob.get(f"{R0}/sync?timeout=0&since={quote(since)}"))[
        "rooms"]["join"][room]["timeline"]["events"]
    assert sent in [event["event_id"] for event in timeline]
    chunk = ok(bob.get(f"{R0}/events?timeout=0&from={quote(token)}"))["chunk"]
    assert sent in [event["event_id"] for event in chunk]
    assert ok(bob.get(f"{R0}/rooms/{q(room)}/event/{q(sent)}"))["content"]["body"] == "hi"


def test_r0_media_upload_and_download(alice):
    uri = ok(alice.post("/_matrix/media/r0/upload", data=b"hello",
                        headers={**alice.headers, "Content-Type": "text/plain"}))["content_uri"]
    server, media_id = uri[len("mxc://"):].split("/")
    response = alice.get(f"/_matrix/client/v1/media/download/{server}/{media_id}")
    assert response.status_code == 200 and response.data == b"hello"


def test_what_r0_never_had_is_unrecognized(alice):
    error(alice.post(f"{R0}/knock/{q('!r:localhost:8008')}", json={}), 404, "M_UNRECOGNIZED")
    error(alice.post(f"{R0}/refresh", json={"refresh_token": "x"}), 404, "M_UNRECOGNIZED")
    error(alice.get(f"{R0}/rooms/{q('!r:localhost:8008')}/hierarchy"), 404, "M_UNRECOGNIZED")


def test_versions_list_the_r0_releases(client):
    versions = ok(client.get("/_matrix/client/versions"))["versions"]
    assert "r0.6.1" in versions and "r0.0.1" in versions and "v1.1" in versions
