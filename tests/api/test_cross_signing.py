"""Cross-signing: POST /keys/device_signing/upload (with its UIA rules) and
/keys/signatures/upload; what /keys/query shows to whom."""

import copy

from helpers.keys import (V3, SigningKey, cross_signing_key, device_keys_for, make_user)


class CrossSigning:
    """A user's three cross-signing keys, generated like a client would."""

    def __init__(self, user_id):
        self.user_id = user_id
        self.master, self.self_signing, self.user_signing = (SigningKey(), SigningKey(),
                                                             SigningKey())

    def body(self):
        return {
            "master_key": cross_signing_key(self.user_id, "master", self.master),
            "self_signing_key": cross_signing_key(self.user_id, "self_signing",
                                                  self.self_signing, self.master),
            "user_signing_key": cross_signing_key(self.user_id, "user_signing",
                                                  self.user_signing, self.master),
        }


def upload_cs(user, body):
    return user.post(f"{V3}/keys/device_signing/upload", json=body)


def query(user, *user_ids):
    return user.post(f"{V3}/keys/query",
                     json={"device_keys": {u: [] for u in user_ids}}).get_json()


def with_password(user, body):
    """Go through the 401 -> m.login.password dance."""
    first = upload_cs(user, body)
    assert first.status_code == 401, first.get_json()
    session = first.get_json()["session"]
    assert {"stages": ["m.login.password"]} in first.get_json()["flows"]
    return upload_cs(user, {**body, "auth": {
        "type": "m.login.password", "session": session, "password": user.password,
        "identifier": {"type": "m.id.user", "user": user.user_id}}})


def test_first_upload_needs_no_uia_and_shows_in_query(client):
    alice = make_user(client, "alice")
    bob = make_user(client, "bob")
    keys = CrossSigning(alice.user_id)
    body = keys.body()
    response = upload_cs(alice, body)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {}

    own = query(alice, alice.user_id)
    assert own["master_keys"][alice.user_id] == body["master_key"]
    assert own["self_signing_keys"][alice.user_id] == body["self_signing_key"]
    assert own["user_signing_keys"][alice.user_id] == body["user_signing_key"]
    other = query(bob, alice.user_id)
    assert other["master_keys"][alice.user_id] == body["master_key"]
    assert other["self_signing_keys"][alice.user_id] == body["self_signing_key"]
    assert alice.user_id not in other.get("user_signing_keys", {})


def test_reupload_of_same_keys_is_idempotent_but_new_keys_need_uia(client):
    alice = make_user(client, "alice")
    keys = CrossSigning(alice.user_id)
    body = keys.body()
    assert upload_cs(alice, body).status_code == 200
    # A retry after a lost response: the very same keys, no UIA.
    assert upload_cs(alice, body).status_code == 200
    assert upload_cs(alice, {"master_key": body["master_key"]}).status_code == 200

    replacement = CrossSigning(alice.user_id).body()
    response = upload_cs(alice, replacement)
    assert response.status_code == 401
    assert "session" in response.get_json()
    assert query(alice, alice.user_id)["master_keys"][alice.user_id] == body["master_key"]

    bad = upload_cs(alice, {**replacement, "auth": {
        "type": "m.login.password", "session": response.get_json()["session"],
        "password": "wrong", "identifier": {"type": "m.id.user", "user": alice.user_id}}})
    assert bad.status_code == 401 and bad.get_json()["errcode"] == "M_FORBIDDEN"

    response = with_password(alice, replacement)
    assert response.status_code == 200, response.get_json()
    assert query(alice, alice.user_id)["master_keys"][alice.user_id] == \
        replacement["master_key"]


def test_new_self_signing_key_under_existing_master_needs_uia(client):
    alice = make_user(client, "alice")
    keys = CrossSigning(alice.user_id)
    assert upload_cs(alice, {"master_key": keys.body()["master_key"]}).status_code == 200
    ssk = cross_signing_key(alice.user_id, "self_signing", SigningKey(), keys.master)
    assert upload_cs(alice, {"self_signing_key": ssk}).status_code == 401
    assert with_password(alice, {"self_signing_key": ssk}).status_code == 200
    assert query(alice, alice.user_id)["self_signing_keys"][alice.user_id] == ssk


def test_subkeys_must_be_signed_by_the_master_key(client):
    alice = make_user(client, "alice")
    keys = CrossSigning(alice.user_id)
    body = keys.body()
    body["self_signing_key"] = cross_signing_key(alice.user_id, "self_signing",
                                                 keys.self_signing, SigningKey())
    response = upload_cs(alice, body)
    assert response.status_code == 400
    assert response.get_json()["errcode"] == "M_INVALID_SIGNATURE"
    assert "master_keys" not in query(alice, alice.user_id) or \
        alice.user_id not in query(alice, alice.user_id)["master_keys"]

    response = upload_cs(alice, {"self_signing_key": keys.body()["self_signing_key"]})
    assert response.status_code == 400
    assert response.get_json()["errcode"] == "M_MISSING_PARAM"


def test_malformed_and_foreign_keys_refused(client):
    alice = make_user(client, "alice", "ALICEDEV")
    keys = CrossSigning("@bob:localhost:8008")
    response = upload_cs(alice, {"master_key": keys.body()["master_key"]})
    assert response.status_code == 400
    master = cross_signing_key(alice.user_id, "master", SigningKey())
    master["keys"]["ed25519:second"] = "second"
    assert upload_cs(alice, {"master_key": master}).status_code == 400
    master = cross_signing_key(alice.user_id, "self_signing", SigningKey())
    assert upload_cs(alice, {"master_key": master}).status_code == 400
    # A cross-signing key whose public key equals a device ID.
    clash = {"user_id": alice.user_id, "usage": ["master"],
             "keys": {"ed25519:ALICEDEV": "ALICEDEV"}}
    response = upload_cs(alice, {"master_key": clash})
    assert response.status_code == 403 and response.get_json()["errcode"] == "M_FORBIDDEN"


def setup_alice(client):
    alice = make_user(client, "alice", "ALICEDEV")
    device_key = SigningKey()
    device_keys = device_keys_for(alice, device_key)
    alice.post(f"{V3}/keys/upload", json={"device_keys": device_keys})
    keys = CrossSigning(alice.user_id)
    body = keys.body()
    assert upload_cs(alice, body).status_code == 200
    return alice, device_key, device_keys, keys, body


def test_self_signing_signature_on_device_is_stored_and_shown(client):
    alice, _, device_keys, keys, _ = setup_alice(client)
    bob = make_user(client, "bob")
    signed = keys.self_signing.sign(copy.deepcopy(device_keys),
                                    alice.user_id, f"ed25519:{keys.self_signing.public}")
    response = alice.post(f"{V3}/keys/signatures/upload",
                          json={alice.user_id: {"ALICEDEV": signed}})
    assert response.status_code == 200
    assert response.get_json() == {"failures": {}}
    shown = query(bob, alice.user_id)["device_keys"][alice.user_id]["ALICEDEV"]
    assert shown["signatures"][alice.user_id] == signed["signatures"][alice.user_id]


def test_device_signs_own_master_key(client):
    alice, device_key, _, keys, body = setup_alice(client)
    master = copy.deepcopy(body["master_key"])
    device_key.sign(master, alice.user_id, "ed25519:ALICEDEV")
    response = alice.post(f"{V3}/keys/signatures/upload",
                          json={alice.user_id: {keys.master.public: master}})
    assert response.get_json() == {"failures": {}}
    bob = make_user(client, "bob")
    shown = query(bob, alice.user_id)["master_keys"][alice.user_id]
    assert shown["signatures"][alice.user_id]["ed25519:ALICEDEV"] == \
        master["signatures"][alice.user_id]["ed25519:ALICEDEV"]


def test_bad_signatures_reported_per_key_and_not_stored(client):
    alice, _, device_keys, keys, _ = setup_alice(client)
    forged = SigningKey().sign(dict(device_keys, signatures={}), alice.user_id,
                               f"ed25519:{keys.self_signing.public}")
    tampered = dict(copy.deepcopy(device_keys), algorithms=["x"])
    keys.self_signing.sign(tampered, alice.user_id, f"ed25519:{keys.self_signing.public}")
    response = alice.post(f"{V3}/keys/signatures/upload", json={
        alice.user_id: {"ALICEDEV": forged, "NOSUCHDEVICE": forged}})
    failures = response.get_json()["failures"][alice.user_id]
    assert failures["ALICEDEV"]["errcode"] == "M_INVALID_SIGNATURE"
    assert failures["NOSUCHDEVICE"]["errcode"] == "M_NOT_FOUND"
    response = alice.post(f"{V3}/keys/signatures/upload",
                          json={alice.user_id: {"ALICEDEV": tampered}})
    assert "ALICEDEV" in response.get_json()["failures"][alice.user_id]
    shown = query(alice, alice.user_id)["device_keys"][alice.user_id]["ALICEDEV"]
    assert shown["signatures"] == device_keys["signatures"]


def test_user_signing_signatures_visible_only_to_the_signer(client):
    alice, _, _, alice_keys, _ = setup_alice(client)
    bob = make_user(client, "bob")
    bob_keys = CrossSigning(bob.user_id)
    bob_body = bob_keys.body()
    assert upload_cs(bob, bob_body).status_code == 200
    carol = make_user(client, "carol")

    signed = alice_keys.user_signing.sign(copy.deepcopy(bob_body["master_key"]), alice.user_id,
                                          f"ed25519:{alice_keys.user_signing.public}")
    response = alice.post(f"{V3}/keys/signatures/upload",
                          json={bob.user_id: {bob_keys.master.public: signed}})
    assert response.get_json() == {"failures": {}}
    seen_by_alice = query(alice, bob.user_id)["master_keys"][bob.user_id]
    assert alice.user_id in seen_by_alice["signatures"]
    for viewer in (bob, carol):
        seen = query(viewer, bob.user_id)["master_keys"][bob.user_id]
        assert alice.user_id not in seen.get("signatures", {})

    # Signing someone else's device directly is refused.
    response = alice.post(f"{V3}/keys/signatures/upload", json={bob.user_id: {"BOBDEV": {}}})
    assert response.get_json()["failures"][bob.user_id]["BOBDEV"]["errcode"] in (
        "M_NOT_FOUND", "M_BAD_JSON", "M_INVALID_PARAM")
