"""Attack (on availability, by the network): a client whose response was lost retries its
``PUT /rooms/{roomId}/send/{eventType}/{txnId}``. The retry spent a rate-limit token before its
txnId was looked up, so a client near its limit got 429 for an event that was already sent,
and kept retrying (or gave up and showed the message as failed). A replay is now answered with
its first event ID before any limit is checked, for sends and redactions."""

from helpers.api import V3, ok, q

GENEROUS = {"per_second": 100, "burst": 1000}


def test_replays_are_answered_before_the_rate_limit(make_app, clock):
    app = make_app(rate_limits={
        "enabled": True, "login_per_ip": GENEROUS, "login_per_user": GENEROUS,
        "login_failures_per_user": GENEROUS, "register_per_ip": GENEROUS,
        "messages_per_user": {"per_second": 0.001, "burst": 4}})
    client = app.test_client()
    registered = ok(client.post(f"{V3}/register", json={
        "username": "alice", "password": "correct horse battery",
        "auth": {"type": "m.login.dummy"}}))
    headers = {"Authorization": f"Bearer {registered['access_token']}"}

    room_id = create_room_with(client, headers)                       # token 1

    def send(txn, body="hi"):
        return client.put(f"{V3}/rooms/{q(room_id)}/send/m.room.message/{txn}",
                          headers=headers, json={"msgtype": "m.text", "body": body})

    def redact(event_id, txn):
        return client.put(f"{V3}/rooms/{q(room_id)}/redact/{q(event_id)}/{txn}",
                          headers=headers, json={"reason": "oops"})

    first = ok(send("t1"))["event_id"]                                 # token 2
    second = ok(send("t2"))["event_id"]                                # token 3
    redaction = ok(redact(first, "r1"))["event_id"]                    # token 4
    # The bucket is empty: a new event is refused...
    refused = send("t3")
    assert refused.status_code == 429, refused.get_json()
    assert refused.get_json()["errcode"] == "M_LIMIT_EXCEEDED"
    # ...but every retry gets its first answer, as often as it is retried.
    for _ in range(3):
        assert ok(send("t1", body="retried body is ignored"))["event_id"] == first
        assert ok(send("t2"))["event_id"] == second
        assert ok(redact(first, "r1"))["event_id"] == redaction
    # Retries spent nothing: once one token is back, one new event goes through.
    clock.advance(1001 * 1000)
    ok(send("t4"))
    assert send("t5").status_code == 429


def create_room_with(client, headers) -> str:
    response = client.post(f"{V3}/createRoom", headers=headers, json={})
    return ok(response)["room_id"]
