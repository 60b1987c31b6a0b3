"""Attack (or just two devices at once): concurrent PUT /pushrules for one user.

A rule change reads the user's rules of a kind, then rewrites them in priority order. Under
PostgreSQL READ COMMITTED two such changes interleaved: one rewrite deleted the other's new
rule (a lost write), or both inserted the same rule (a unique violation: 500). Each change
now locks the user's version row first, so one user's changes run one after the other, and
the rules-per-user limit is checked under that lock. Real threads, one connection each; runs
on SQLite and PostgreSQL.
"""

import threading
from urllib.parse import quote

from helpers.api import V3, ok

from homeserver.models.push import PushRule

RULES = f"{V3}/pushrules/global"
THREADS = 6
ROUNDS = 4


def _run(app, user, jobs):
    """Runs each job (a list of (method, path, body)) in its own thread and client, all
    starting together; returns every response."""
    barrier = threading.Barrier(len(jobs))
    responses, errors = [], []

    def work(requests):
        client = app.test_client()
        try:
            barrier.wait()
            for method, path, body in requests:
                responses.append(client.open(path, method=method, json=body,
                                             headers=user.headers))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return responses


def _own_rules(user, kind):
    return [r["rule_id"] for r in ok(user.get(f"{RULES}/"))[kind] if not r["default"]]


def test_concurrent_rule_writes_lose_nothing(app, register_user):
    bob = register_user("bob")
    ok(bob.put(f"{RULES}/override/anchor", json={"conditions": [], "actions": []}))
    jobs = []
    for t in range(THREADS):
        job = []
        for n in range(ROUNDS):
            position = ["", "?before=anchor", "?after=anchor"][(t + n) % 3]
            job.append(("PUT", f"{RULES}/override/r{t}-{n}{position}",
                        {"conditions": [], "actions": ["notify"]}))
            # Everyone also rewrites one shared rule (same primary key at once).
            job.append(("PUT", f"{RULES}/override/shared?after=anchor",
                        {"conditions": [], "actions": [{"set_tweak": "sound", "value": str(t)}]}))
        jobs.append(job)
    responses = _run(app, bob, jobs)

    assert [r.status_code for r in responses if r.status_code != 200] == []
    expected = {"anchor", "shared"} | {f"r{t}-{n}" for t in range(THREADS) for n in range(ROUNDS)}
    rules = _own_rules(bob, "override")
    assert sorted(rules) == sorted(expected)  # none lost, none twice
    assert rules.index("shared") == rules.index("anchor") + 1
    with app.app_context():
        priorities = [p for (p,) in PushRule.select(PushRule.priority).where(
            (PushRule.user_id == bob.user_id) & (PushRule.kind == "override")).tuples()]
    assert sorted(priorities) == list(range(len(expected)))


def test_concurrent_enable_delete_and_actions(app, register_user):
    bob = register_user("bob")
    for n in range(THREADS):
        ok(bob.put(f"{RULES}/content/w{n}", json={"pattern": f"w{n}", "actions": []}))
    ok(bob.put(f"{RULES}/content/keep", json={"pattern": "keep", "actions": []}))
    jobs = [[("PUT", f"{RULES}/content/w{t}/enabled", {"enabled": False}),
             ("PUT", f"{RULES}/content/w{t}/actions", {"actions": ["notify"]}),
             ("PUT", f"{RULES}/content/new{t}?{('before', 'after')[t % 2]}=keep",
              {"pattern": f"n{t}", "actions": []}),
             ("DELETE", f"{RULES}/content/w{t}", None)] for t in range(THREADS)]
    responses = _run(app, bob, jobs)
    assert [r.status_code for r in responses if r.status_code != 200] == []
    rules = _own_rules(bob, "content")
    assert sorted(rules) == sorted([f"new{t}" for t in range(THREADS)] + ["keep"])
    keep = rules.index("keep")
    assert all((rules.index(f"new{t}") < keep) == (t % 2 == 0) for t in range(THREADS))


def test_rule_limit_holds_under_concurrency(make_app, register_user):
    app = make_app(push={"max_rules_per_user": 3})
    client = app.test_client()
    token = ok(client.post(f"{V3}/register", json={
        "username": "carol", "password": "correct horse battery",
        "auth": {"type": "m.login.dummy"}}))["access_token"]

    class Carol:
        headers = {"Authorization": f"Bearer {token}"}

    jobs = [[("PUT", f"{RULES}/underride/{quote(f'u{t}')}", {"conditions": [], "actions": []})]
            for t in range(THREADS)]
    responses = _run(app, Carol, jobs)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 3 + [403] * (THREADS - 3)
    listed = ok(client.get(f"{RULES}/", headers=Carol.headers))["underride"]
    assert len([r for r in listed if not r["default"]]) == 3
