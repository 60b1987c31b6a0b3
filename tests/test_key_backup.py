"""Server-side key backups: /room_keys/version and /room_keys/keys."""

from test_keys_support import V3, make_user

ALGORITHM = "m.megolm_backup.v1.curve25519-aes-sha2"
ROOM = "!room:localhost:8008"


def key_data(first=0, forwarded=0, verified=False, marker="a"):
    return {"first_message_index": first, "forwarded_count": forwarded, "is_verified": verified,
            "session_data": {"ephemeral": "e", "ciphertext": marker, "mac": "m"}}


def new_backup(user, public_key="pk"):
    response = user.post(f"{V3}/room_keys/version",
                         json={"algorithm": ALGORITHM, "auth_data": {"public_key": public_key}})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["version"]


def test_versions_lifecycle(client):
    alice = make_user(client, "alice")
    response = alice.get(f"{V3}/room_keys/version")
    assert response.status_code == 404
    assert response.get_json()["errcode"] == "M_NOT_FOUND"
    first = new_backup(alice, "one")
    second = new_backup(alice, "two")
    assert first != second
    latest = alice.get(f"{V3}/room_keys/version").get_json()
    assert latest == {"algorithm": ALGORITHM, "auth_data": {"public_key": "two"}, "count": 0,
                      "etag": latest["etag"], "version": second}
    assert alice.get(f"{V3}/room_keys/version/{first}").get_json()["auth_data"] == {
        "public_key": "one"}

    response = alice.put(f"{V3}/room_keys/version/{second}", json={
        "algorithm": ALGORITHM, "auth_data": {"public_key": "two", "signatures": {}}})
    assert response.status_code == 200 and response.get_json() == {}
    assert alice.get(f"{V3}/room_keys/version").get_json()["auth_data"]["signatures"] == {}
    for body, errcode in (({"algorithm": "other", "auth_data": {}}, "M_INVALID_PARAM"),
                          ({"algorithm": ALGORITHM, "auth_data": {}, "version": first},
                           "M_INVALID_PARAM")):
        response = alice.put(f"{V3}/room_keys/version/{second}", json=body)
        assert response.status_code == 400 and response.get_json()["errcode"] == errcode

    assert alice.delete(f"{V3}/room_keys/version/{second}").status_code == 200
    assert alice.delete(f"{V3}/room_keys/version/{second}").status_code == 200  # again: fine
    assert alice.get(f"{V3}/room_keys/version/{second}").status_code == 404
    assert alice.get(f"{V3}/room_keys/version").get_json()["version"] == first
    assert alice.delete(f"{V3}/room_keys/version/999999").status_code == 404
    assert alice.get(f"{V3}/room_keys/version/notanumber").status_code == 404


def test_other_users_backups_are_invisible(client):
    alice = make_user(client, "alice")
    bob = make_user(client, "bob")
    version = new_backup(alice)
    assert bob.get(f"{V3}/room_keys/version/{version}").status_code == 404
    assert bob.get(f"{V3}/room_keys/keys?version={version}").status_code == 404
    response = bob.put(f"{V3}/room_keys/keys/{ROOM}/s1?version={version}", json=key_data())
    assert response.status_code == 404
    assert bob.delete(f"{V3}/room_keys/version/{version}").status_code == 404
    assert alice.get(f"{V3}/room_keys/version/{version}").status_code == 200


def test_create_validates(client):
    alice = make_user(client, "alice")
    for body in ({"algorithm": ALGORITHM}, {"algorithm": ALGORITHM, "auth_data": "x"},
                 {"auth_data": {}}, {"algorithm": 1, "auth_data": {}}):
        response = alice.post(f"{V3}/room_keys/version", json=body)
        assert response.status_code == 400, body
        assert response.get_json()["errcode"] == "M_BAD_JSON"


def test_unknown_algorithm_is_stored_opaquely(client):
    # As the reference server does: a backup algorithm this server does not know is kept,
    # auth_data as given (floats included: only the known algorithm's is signed JSON).
    alice = make_user(client, "alice")
    auth_data = {"anything": [1, {"nested": True}], "ratio": 0.5}
    response = alice.post(f"{V3}/room_keys/version",
                          json={"algorithm": "org.example.future", "auth_data": auth_data})
    assert response.status_code == 200, response.get_json()
    version = response.get_json()["version"]
    got = alice.get(f"{V3}/room_keys/version").get_json()
    assert got["algorithm"] == "org.example.future" and got["auth_data"] == auth_data
    assert got["version"] == version
    response = alice.put(f"{V3}/room_keys/version/{version}", json={
        "algorithm": "org.example.future", "auth_data": {"changed": 1.25}})
    assert response.status_code == 200, response.get_json()
    assert alice.get(f"{V3}/room_keys/version").get_json()["auth_data"] == {"changed": 1.25}
    response = alice.put(f"{V3}/room_keys/keys/{ROOM}/s1?version={version}", json=key_data())
    assert response.status_code == 200, response.get_json()


def test_keys_put_get_delete_at_three_levels(client):
    alice = make_user(client, "alice")
    version = new_backup(alice)
    base = f"{V3}/room_keys/keys"
    response = alice.put(f"{base}/{ROOM}/s1?version={version}", json=key_data(marker="s1"))
    assert response.status_code == 200
    etag1 = response.get_json()["etag"]
    assert response.get_json()["count"] == 1
    response = alice.put(f"{base}/{ROOM}?version={version}",
                         json={"sessions": {"s2": key_data(marker="s2")}})
    assert response.get_json()["count"] == 2
    response = alice.put(f"{base}?version={version}", json={"rooms": {
        "!other:localhost:8008": {"sessions": {"s3": key_data(marker="s3")}}}})
    body = response.get_json()
    assert body["count"] == 3 and body["etag"] != etag1
    info = alice.get(f"{V3}/room_keys/version").get_json()
    assert info["count"] == 3 and info["etag"] == body["etag"]

    assert alice.get(f"{base}/{ROOM}/s1?version={version}").get_json() == key_data(marker="s1")
    assert alice.get(f"{base}/{ROOM}?version={version}").get_json() == {
        "sessions": {"s1": key_data(marker="s1"), "s2": key_data(marker="s2")}}
    everything = alice.get(f"{base}?version={version}").get_json()
    assert set(everything["rooms"]) == {ROOM, "!other:localhost:8008"}
    assert alice.get(f"{base}/!none:x?version={version}").get_json() == {"sessions": {}}
    missing = alice.get(f"{base}/{ROOM}/nope?version={version}")
    assert missing.status_code == 404 and missing.get_json()["errcode"] == "M_NOT_FOUND"

    response = alice.delete(f"{base}/{ROOM}/s1?version={version}")
    assert response.get_json()["count"] == 2
    assert alice.delete(f"{base}/{ROOM}?version={version}").get_json()["count"] == 1
    response = alice.delete(f"{base}?version={version}")
    assert response.get_json()["count"] == 0
    assert alice.get(f"{base}?version={version}").get_json() == {"rooms": {}}


def test_missing_version_param(client):
    alice = make_user(client, "alice")
    new_backup(alice)
    response = alice.get(f"{V3}/room_keys/keys")
    assert response.status_code == 400
    assert response.get_json()["errcode"] == "M_MISSING_PARAM"


def test_writes_only_to_current_version(client):
    alice = make_user(client, "alice")
    response = alice.put(f"{V3}/room_keys/keys/{ROOM}/s?version=1", json=key_data())
    assert response.status_code == 404
    old = new_backup(alice)
    current = new_backup(alice)
    response = alice.put(f"{V3}/room_keys/keys/{ROOM}/s?version={old}", json=key_data())
    assert response.status_code == 403
    assert response.get_json() == {"errcode": "M_WRONG_ROOM_KEYS_VERSION",
                                   "error": response.get_json()["error"],
                                    "current_version": current}
    # Reading an older backup still works.
    assert alice.get(f"{V3}/room_keys/keys?version={old}").get_json() == {"rooms": {}}


def test_session_replacement_rules(client):
    alice = make_user(client, "alice")
    version = new_backup(alice)
    url = f"{V3}/room_keys/keys/{ROOM}/sess?version={version}"

    def put(**kw):
        return alice.put(url, json=key_data(**kw)).get_json()["etag"]

    def stored():
        return alice.get(url).get_json()["session_data"]["ciphertext"]

    etag = put(first=5, forwarded=2, verified=False, marker="base")
    # Unverified never replaces verified and vice versa.
    assert put(first=0, forwarded=0, verified=True, marker="verified") != etag
    assert stored() == "verified"
    etag = put(first=0, forwarded=0, verified=False, marker="unverified")
    assert stored() == "verified"
    # Same verification: the lower first_message_index wins.
    put(first=3, forwarded=0, verified=True, marker="later")
    assert stored() == "verified"
    alice_etag = alice.get(f"{V3}/room_keys/version").get_json()["etag"]
    assert alice_etag == etag  # nothing changed, so the etag did not either
    put(first=0, forwarded=5, verified=True, marker="more-forwarded")
    assert stored() == "verified"
    put(first=0, forwarded=0, verified=True, marker="tie")
    assert stored() == "verified"  # a tie keeps the stored copy


def test_lower_index_then_lower_forwarded_count_win(client):
    alice = make_user(client, "alice")
    version = new_backup(alice)
    url = f"{V3}/room_keys/keys/{ROOM}/sess?version={version}"
    alice.put(url, json=key_data(first=5, forwarded=3, marker="a"))
    alice.put(url, json=key_data(first=2, forwarded=9, marker="b"))
    assert alice.get(url).get_json()["session_data"]["ciphertext"] == "b"
    alice.put(url, json=key_data(first=2, forwarded=1, marker="c"))
    assert alice.get(url).get_json() == key_data(first=2, forwarded=1, marker="c")


def test_deleting_a_version_deletes_its_keys(client):
    alice = make_user(client, "alice")
    version = new_backup(alice)
    alice.put(f"{V3}/room_keys/keys/{ROOM}/s?version={version}", json=key_data())
    alice.delete(f"{V3}/room_keys/version/{version}")
    assert alice.get(f"{V3}/room_keys/keys?version={version}").status_code == 404
    response = alice.put(f"{V3}/room_keys/keys/{ROOM}/s?version={version}", json=key_data())
    assert response.status_code == 404


def test_unknown_algorithm_auth_data_may_be_any_json(client):
    # SyTest's and Synapse's reading: only the known algorithm's auth_data is an object.
    alice = make_user(client, "alice")
    response = alice.post(f"{V3}/room_keys/version",
                          json={"algorithm": "org.example.future", "auth_data": "opaque"})
    assert response.status_code == 200, response.get_json()
    version = response.get_json()["version"]
    assert alice.get(f"{V3}/room_keys/version").get_json()["auth_data"] == "opaque"
    assert alice.put(f"{V3}/room_keys/version/{version}", json={
        "algorithm": "org.example.future", "auth_data": "changed"}).status_code == 200
    assert alice.get(f"{V3}/room_keys/version").get_json()["auth_data"] == "changed"


def test_unknown_algorithm_session_data_may_be_any_json(client):
    alice = make_user(client, "alice")
    version = alice.post(f"{V3}/room_keys/version", json={
        "algorithm": "org.example.future", "auth_data": "opaque"}).get_json()["version"]
    data = {**key_data(), "session_data": "anopaquestring"}
    response = alice.put(f"{V3}/room_keys/keys/{ROOM}/s1?version={version}", json=data)
    assert response.status_code == 200, response.get_json()
    got = alice.get(f"{V3}/room_keys/keys/{ROOM}/s1?version={version}").get_json()
    assert got["session_data"] == "anopaquestring"


def test_known_algorithm_session_data_must_be_an_object(client):
    alice = make_user(client, "alice")
    version = new_backup(alice)
    data = {**key_data(), "session_data": "not an object"}
    response = alice.put(f"{V3}/room_keys/keys/{ROOM}/s1?version={version}", json=data)
    assert response.status_code == 400 and response.get_json()["errcode"] == "M_BAD_JSON"
