"""Concurrent send-to-device and /sync of the recipient devices never deadlock (PostgreSQL):
senders and syncs lock a device's queue and the stream counter in one order (devices sorted,
then the counter), whatever order a request names the devices in."""

import threading

from test_keys_support import V3, make_user, new_device

from homeserver.services.e2ee import to_device

ROUNDS = 40


def test_senders_and_syncs_do_not_deadlock(app, client, monkeypatch):
    monkeypatch.setattr(to_device, "BATCH", 5)  # every sync releases a batch
    alice = make_user(client, "alice", "A1")
    carol = make_user(client, "carol", "C1")
    bob = make_user(client, "bob", "B1")
    bob2 = new_device(client, bob.user_id, "B2")
    # A backlog beyond a batch: each sync then gives waiting messages a position (it locks the
    # device's queue, then takes the stream counter) while senders take the counter first.
    for i in range(3 * ROUNDS):
        response = alice.put(f"{V3}/sendToDevice/m.test/backlog-{i}", json={
            "messages": {bob.user_id: {"B1": {"b": i}, "B2": {"b": i}}}})
        assert response.status_code == 200
    failures = []
    barrier = threading.Barrier(4)

    def sender(user, order):
        own = app.test_client()
        barrier.wait()
        for i in range(ROUNDS):
            messages = {bob.user_id: {device: {"i": i} for device in order}}
            response = own.put(f"{V3}/sendToDevice/m.test/{user.device_id}-{i}",
                               json={"messages": messages}, headers=user.headers)
            if response.status_code != 200:
                failures.append(response.get_json())

    def syncer(device):
        own = app.test_client()
        since = None
        barrier.wait()
        for _ in range(ROUNDS):
            url = f"{V3}/sync?timeout=0" + (f"&since={since}" if since else "")
            response = own.get(url, headers=device.headers)
            if response.status_code != 200:
                failures.append(response.get_json())
                continue
            since = response.get_json()["next_batch"]

    threads = [threading.Thread(target=sender, args=(alice, ["B1", "B2"])),
               threading.Thread(target=sender, args=(carol, ["B2", "B1"])),
               threading.Thread(target=syncer, args=(bob,)),
               threading.Thread(target=syncer, args=(bob2,))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
