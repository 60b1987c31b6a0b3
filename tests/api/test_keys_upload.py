"""POST /keys/upload, /keys/query and /keys/claim."""

from helpers.keys import (V3, SigningKey, device_keys_for, make_user, new_device,
                               signed_otk)


def upload(handle, **body):
    return handle.post(f"{V3}/keys/upload", json=body)


def test_upload_device_keys_and_query_them(client):
    alice = make_user(client, "alice", "ALICEDEV", display_name="Alice's phone")
    bob = make_user(client, "bob")
    key = SigningKey()
    keys = device_keys_for(alice, key)
    response = upload(alice, device_keys=keys)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"one_time_key_counts": {"signed_curve25519": 0}}

    response = bob.post(f"{V3}/keys/query", json={"device_keys": {alice.user_id: []}})
    assert response.status_code == 200
    body = response.get_json()
    got = body["device_keys"][alice.user_id]["ALICEDEV"]
    assert got["unsigned"] == {"device_display_name": "Alice's phone"}
    assert {k: v for k, v in got.items() if k != "unsigned"} == keys
    assert body["failures"] == {}


def test_query_filters_devices_and_unknown_users(client):
    alice = make_user(client, "alice", "D1")
    second = new_device(client, alice.user_id, "D2")
    upload(alice, device_keys=device_keys_for(alice, SigningKey()))
    upload(second, device_keys=device_keys_for(second, SigningKey()))
    body = alice.post(f"{V3}/keys/query", json={"device_keys": {
        alice.user_id: ["D2"], "@nobody:localhost:8008": [], "@x:elsewhere.example": []}}
    ).get_json()
    assert list(body["device_keys"][alice.user_id]) == ["D2"]
    assert body["device_keys"]["@nobody:localhost:8008"] == {}
    assert "elsewhere.example" in body["failures"]
    all_devices = alice.post(f"{V3}/keys/query",
                             json={"device_keys": {alice.user_id: []}}).get_json()
    assert sorted(all_devices["device_keys"][alice.user_id]) == ["D1", "D2"]


def test_device_keys_must_be_the_requesters(client):
    alice = make_user(client, "alice", "ALICEDEV")
    mallory = make_user(client, "mallory", "MALDEV")
    keys = device_keys_for(alice, SigningKey())
    response = upload(mallory, device_keys=keys)
    assert response.status_code == 400
    assert response.get_json()["errcode"] == "M_INVALID_PARAM"
    other_device = new_device(client, alice.user_id, "OTHER")
    assert upload(other_device, device_keys=keys).status_code == 400
    body = mallory.post(f"{V3}/keys/query", json={"device_keys": {alice.user_id: []}}).get_json()
    assert body["device_keys"][alice.user_id] == {}


def test_device_keys_with_a_bad_self_signature_are_stored(client):
    # The spec defines no signature error for /keys/upload and the reference servers store
    # such keys: verifying a device's self-signature is its peers' job.
    alice = make_user(client, "alice", "ALICEDEV")
    bob = make_user(client, "bob")
    keys = device_keys_for(alice, SigningKey())
    keys["algorithms"].append("m.tampered")
    response = upload(alice, device_keys=keys)
    assert response.status_code == 200, response.get_json()
    body = bob.post(f"{V3}/keys/query", json={"device_keys": {alice.user_id: []}}).get_json()
    got = body["device_keys"][alice.user_id]["ALICEDEV"]
    assert {k: v for k, v in got.items() if k != "unsigned"} == keys
    unsigned = dict(keys, signatures={})
    del unsigned["signatures"]
    response = upload(alice, device_keys=dict(unsigned, algorithms=["m.other"]))
    assert response.status_code == 400  # the shape is still checked: signatures is required
    assert response.get_json()["errcode"] == "M_BAD_JSON"


def test_bad_bodies_are_refused(client):
    alice = make_user(client, "alice")
    for body in ({"one_time_keys": []}, {"one_time_keys": {"nocolon": "x"}},
                 {"one_time_keys": {"signed_curve25519:A": {"key": 1}}},
                 {"one_time_keys": {"curve25519:A": 1.5}}):
        response = alice.post(f"{V3}/keys/upload", json=body)
        assert response.status_code == 400, body
        assert response.get_json()["errcode"] in ("M_BAD_JSON", "M_INVALID_PARAM")
    response = alice.post(f"{V3}/keys/query", json={"device_keys": {"@a:b": "x"}})
    assert response.get_json()["errcode"] == "M_BAD_JSON"
    response = alice.post(f"{V3}/keys/claim", json={})
    assert response.get_json()["errcode"] == "M_BAD_JSON"
    assert client.post(f"{V3}/keys/upload", json={}).status_code == 401


def test_one_time_keys_counted_and_reused_ids_refused(client):
    alice = make_user(client, "alice", "ALICEDEV")
    key = SigningKey()
    otks = {f"signed_curve25519:K{i}": signed_otk(alice, key, f"pub{i}") for i in range(3)}
    body = upload(alice, one_time_keys=otks).get_json()
    assert body["one_time_key_counts"] == {"signed_curve25519": 3}
    # The same keys again (a retried request) change nothing.
    assert upload(alice, one_time_keys=otks).get_json()["one_time_key_counts"] == {
        "signed_curve25519": 3}
    response = upload(alice, one_time_keys={
        "signed_curve25519:K1": signed_otk(alice, key, "different")})
    assert response.status_code == 400
    assert response.get_json()["errcode"] == "M_INVALID_PARAM"
    body = upload(alice, one_time_keys={"curve25519:X": "plainkey"}).get_json()
    assert body["one_time_key_counts"] == {"signed_curve25519": 3, "curve25519": 1}


def test_claim_hands_out_each_key_once_then_the_fallback(client):
    alice = make_user(client, "alice", "ALICEDEV")
    bob = make_user(client, "bob")
    key = SigningKey()
    otks = {f"signed_curve25519:K{i}": signed_otk(alice, key, f"pub{i}") for i in range(2)}
    fallback = {"signed_curve25519:F1": signed_otk(alice, key, "fallback", fallback=True)}
    upload(alice, one_time_keys=otks, fallback_keys=fallback)
    request = {"one_time_keys": {alice.user_id: {"ALICEDEV": "signed_curve25519"}}}
    seen = []
    for _ in range(2):
        body = bob.post(f"{V3}/keys/claim", json=request).get_json()
        ((key_id, value),) = body["one_time_keys"][alice.user_id]["ALICEDEV"].items()
        seen.append(key_id)
        assert value == otks[key_id]
    assert sorted(seen) == ["signed_curve25519:K0", "signed_curve25519:K1"]
    assert upload(alice).get_json()["one_time_key_counts"] == {"signed_curve25519": 0}
    for _ in range(2):
        body = bob.post(f"{V3}/keys/claim", json=request).get_json()
        assert body["one_time_keys"][alice.user_id]["ALICEDEV"] == fallback
    # A claimed key's ID cannot come back with other content.
    response = upload(alice, one_time_keys={
        "signed_curve25519:K0": signed_otk(alice, key, "new")})
    assert response.status_code == 400


def test_claim_unknown_device_or_algorithm_returns_nothing(client):
    alice = make_user(client, "alice", "ALICEDEV")
    upload(alice, one_time_keys={"curve25519:A": "k"})
    body = alice.post(f"{V3}/keys/claim", json={"one_time_keys": {
        alice.user_id: {"NOPE": "curve25519", "ALICEDEV": "signed_curve25519"},
        "@x:remote.example": {"D": "signed_curve25519"}}}).get_json()
    assert body["one_time_keys"] == {}
    assert "remote.example" in body["failures"]


def test_new_fallback_key_replaces_a_used_one(client):
    alice = make_user(client, "alice", "ALICEDEV")
    key = SigningKey()
    first = {"signed_curve25519:F1": signed_otk(alice, key, "f1", fallback=True)}
    upload(alice, fallback_keys=first)
    request = {"one_time_keys": {alice.user_id: {"ALICEDEV": "signed_curve25519"}}}
    assert alice.post(f"{V3}/keys/claim", json=request).get_json()["one_time_keys"][
        alice.user_id]["ALICEDEV"] == first
    sync = alice.get(f"{V3}/sync?timeout=0").get_json()
    assert sync["device_unused_fallback_key_types"] == []
    upload(alice, fallback_keys=first)  # the same key again stays used
    assert alice.get(f"{V3}/sync?timeout=0").get_json()["device_unused_fallback_key_types"] == []
    second = {"signed_curve25519:F2": signed_otk(alice, key, "f2", fallback=True)}
    upload(alice, fallback_keys=second)
    assert alice.get(f"{V3}/sync?timeout=0").get_json()[
        "device_unused_fallback_key_types"] == ["signed_curve25519"]
    assert alice.post(f"{V3}/keys/claim", json=request).get_json()["one_time_keys"][
        alice.user_id]["ALICEDEV"] == second
    two = {"signed_curve25519:A": signed_otk(alice, key, "a", fallback=True),
           "signed_curve25519:B": signed_otk(alice, key, "b", fallback=True)}
    response = upload(alice, fallback_keys=two)
    assert response.status_code == 400
