"""Concurrent /keys/claim requests never receive the same one-time key (SQLite and PostgreSQL)."""

import threading

from helpers.keys import V3, SigningKey, make_user, signed_otk

CLAIMERS = 10
KEYS = 6


def test_concurrent_claims_never_share_a_key(app, client):
    alice = make_user(client, "alice", "ALICEDEV")
    bob = make_user(client, "bob")
    key = SigningKey()
    otks = {f"signed_curve25519:K{i}": signed_otk(alice, key, f"pub{i}") for i in range(KEYS)}
    alice.post(f"{V3}/keys/upload", json={"one_time_keys": otks})

    request = {"one_time_keys": {alice.user_id: {"ALICEDEV": "signed_curve25519"}}}
    barrier = threading.Barrier(CLAIMERS)
    results, failures = [], []

    def claim():
        own_client = app.test_client()
        barrier.wait()
        response = own_client.post(f"{V3}/keys/claim", json=request, headers=bob.headers)
        if response.status_code != 200:
            failures.append(response.get_json())
            return
        results.append(response.get_json()["one_time_keys"].get(alice.user_id, {}))

    threads = [threading.Thread(target=claim) for _ in range(CLAIMERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    handed_out = [next(iter(r["ALICEDEV"])) for r in results if r]
    assert len(handed_out) == KEYS
    assert sorted(handed_out) == sorted(otks)  # every key once, none twice
    assert len(results) - len(handed_out) == CLAIMERS - KEYS
    counts = alice.post(f"{V3}/keys/upload", json={}).get_json()["one_time_key_counts"]
    assert counts == {"signed_curve25519": 0}
