"""Races on accounts (run on SQLite and PostgreSQL, READ COMMITTED): concurrent registrations
with a token that has one use left, concurrent refreshes with one refresh token."""

import threading

from homeserver.models.users import RefreshToken
from homeserver.services import client_secrets
from homeserver.services.accounts import registration_tokens

REGISTER = "/_matrix/client/v3/register"
REFRESH = "/_matrix/client/v3/refresh"
WHOAMI = "/_matrix/client/v3/account/whoami"
THREADS = 6


def run_together(app, work):
    """``work(client, n)`` in THREADS threads released at once; their results, by n."""
    barrier = threading.Barrier(THREADS)
    results = {}

    def run(n):
        client = app.test_client()
        barrier.wait()
        results[n] = work(client, n)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_a_token_with_one_use_left_registers_one_account(make_app):
    app = make_app(registration={"enabled": True, "require_token": True})
    client = app.test_client()
    registration_tokens.create("last", uses_allowed=1)
    sessions = [client.post(REGISTER, json={"username": f"racer{n}", "password": "pw"}
                            ).get_json()["session"] for n in range(THREADS)]

    def register(own, n):
        return own.post(REGISTER, json={"username": f"racer{n}", "password": "pw", "auth": {
            "type": "m.login.registration_token", "token": "last", "session": sessions[n]}})

    results = run_together(app, register)
    statuses = sorted(r.status_code for r in results.values())
    assert statuses == [200] + [401] * (THREADS - 1), statuses
    (row,) = registration_tokens.list_tokens()
    assert (row["pending"], row["completed"]) == (0, 1)


def test_concurrent_refreshes_leave_one_chain(app, client):
    login = client.post(REGISTER, json={"username": "ren", "password": "pw",
                                        "refresh_token": True,
                                        "auth": {"type": "m.login.dummy"}}).get_json()

    def refresh(own, n):
        return own.post(REFRESH, json={"refresh_token": login["refresh_token"]})

    results = run_together(app, refresh)
    assert {r.status_code for r in results.values()} == {200}
    pairs = [r.get_json() for r in results.values()]
    live_refresh = [p for p in pairs if RefreshToken.select().where(
        RefreshToken.token_hash == client_secrets.digest(p["refresh_token"])).exists()]
    assert len(live_refresh) == 1
    live_access = [p for p in pairs if client.get(WHOAMI, headers={
        "Authorization": f"Bearer {p['access_token']}"}).status_code == 200]
    assert live_access == live_refresh
    # The survivor refreshes on; the chain goes on from it alone.
    onward = client.post(REFRESH, json={"refresh_token": live_refresh[0]["refresh_token"]})
    assert onward.status_code == 200
