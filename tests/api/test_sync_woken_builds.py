"""A message in a room of many connected members wakes all their long-polls at once; each
process builds the woken answers a few at a time (``WOKEN_BUILDS``), so a writer is not starved
of the CPU by hundreds of builds, and every member still gets the message."""

import threading
import time

from homeserver.services.streams.long_polls import registry as long_polls
from homeserver.services.sync import service as sync_service
from helpers.rooms import create_room, join, send_ok
from helpers.api import ok
from helpers.sync import sync, sync_path
from helpers.waiting import wait_until

MEMBERS = 6
BOUND = 2


def test_woken_long_polls_build_at_most_the_bound_at_once(app, register_user, monkeypatch):
    owner = register_user("owner")
    room = create_room(owner, preset="public_chat")
    members = [register_user(f"member{n}") for n in range(MEMBERS)]
    for member in members:
        join(member, room)
    tokens = [sync(member)["next_batch"] for member in members]

    monkeypatch.setattr(sync_service, "WOKEN_BUILDS", threading.BoundedSemaphore(BOUND))
    building, most, lock = [0], [0], threading.Lock()
    real_build = sync_service._build

    def slow_build(*args, **kwargs):
        with lock:
            building[0] += 1
            most[0] = max(most[0], building[0])
        try:
            time.sleep(0.05)  # long enough for the woken polls to overlap
            return real_build(*args, **kwargs)
        finally:
            with lock:
                building[0] -= 1

    monkeypatch.setattr(sync_service, "_build", slow_build)
    received = [[] for _ in range(MEMBERS)]

    def poll(n):
        """Long-poll until the message arrives (an answer may bring presence first), from a
        client of its own, as separate connections."""
        client, since = app.test_client(), tokens[n]
        for _ in range(10):
            answer = ok(client.get(sync_path(since=since, timeout=20000),
                                   headers=members[n].headers))
            since = answer["next_batch"]
            room_update = answer["rooms"]["join"].get(room)
            if room_update:
                received[n].extend(e["content"].get("body")
                                   for e in room_update["timeline"]["events"])
                if "to everyone" in received[n]:
                    return

    threads = [threading.Thread(target=poll, args=(n,)) for n in range(MEMBERS)]
    for thread in threads:
        thread.start()
    assert wait_until(lambda: all(long_polls.waiting(m.user_id) for m in members))
    send_ok(owner, room, "to everyone")
    for thread in threads:
        thread.join(60)
    assert all("to everyone" in bodies for bodies in received)
    assert most[0] == BOUND
