"""Attack (on a deactivation's promise): the rooms were left after the deactivation committed,
one at a time, with errors swallowed or raised past the request; a failure (or a crash) in
between left the deactivated account joined for good, still counted a member, still
receiving the room's events in its membership. Now the deactivation records every room to
leave (PendingLeave) in its own transaction; leaving goes on after the commit and a room that
failed is retried by a sweep until the membership is "leave".

The failure is simulated by making the leave raise for one room (as a crash between two
leaves would); the request still succeeds, the account is recorded as still to leave that
room, and once the leave works again the sweep completes it.
"""


from helpers.api import V3, ok, q
from helpers.rooms import create_room, invite, join, state_map

from homeserver.models.deactivation import PendingLeave
from homeserver.services.accounts import deactivation
from homeserver.services.writing import membership
from helpers.waiting import wait_until


def deactivate(user):
    first = user.post(f"{V3}/account/deactivate", json={})
    session = first.get_json()["session"]
    return user.post(f"{V3}/account/deactivate", json={"auth": {
        "type": "m.login.password", "session": session, "password": user.password,
        "identifier": {"type": "m.id.user", "user": user.user_id}}})


def membership_of(viewer, room_id, user_id) -> str:
    return state_map(viewer, room_id)[("m.room.member", user_id)]["content"]["membership"]


def test_failed_leave_is_retried_until_done(register_user, monkeypatch, clock):
    alice, bob = register_user("alice"), register_user("bob")
    rooms = [create_room(alice, preset="public_chat") for _ in range(3)]
    for room_id in rooms:
        join(bob, room_id)
    invited = create_room(alice)
    invite(alice, invited, bob)
    stuck = rooms[1]

    real_leave = membership.leave

    def failing_leave(user_id, room_id, **kwargs):
        if room_id == stuck:
            raise RuntimeError("the process died here")
        return real_leave(user_id, room_id, **kwargs)

    monkeypatch.setattr(membership, "leave", failing_leave)
    response = deactivate(bob)
    assert response.status_code == 200, response.get_json()

    # The other rooms were left; the failed one is recorded, not forgotten.
    for room_id in (rooms[0], rooms[2], invited):
        assert membership_of(alice, room_id, bob.user_id) == "leave"
    assert membership_of(alice, stuck, bob.user_id) == "join"
    assert [(r.user_id, r.room_id) for r in PendingLeave.select()] == [(bob.user_id, stuck)]

    # Still failing when the retry comes due: still recorded, retried later again.
    clock.advance(deactivation.MAX_RETRY_MS)
    deactivation.leave_pending()
    assert membership_of(alice, stuck, bob.user_id) == "join"
    assert PendingLeave.select().count() == 1

    monkeypatch.setattr(membership, "leave", real_leave)
    clock.advance(deactivation.MAX_RETRY_MS + deactivation.CLAIM_MS)
    deactivation.leave_pending()  # what the sweep thread runs (it may get there first)
    assert wait_until(lambda: not PendingLeave.select().exists())
    assert membership_of(alice, stuck, bob.user_id) == "leave"
    joined = ok(alice.get(f"{V3}/rooms/{q(stuck)}/joined_members"))["joined"]
    assert bob.user_id not in joined


def test_leaves_are_recorded_with_the_deactivation(register_user, monkeypatch):
    # A crash right after the deactivation committed, before any leave: the rows are there
    # for the next process's sweep.
    alice, bob = register_user("alice"), register_user("bob")
    room_id = create_room(alice, preset="public_chat")
    join(bob, room_id)
    monkeypatch.setattr(deactivation, "after_commit", lambda *args: None)
    assert deactivate(bob).status_code == 200
    assert membership_of(alice, room_id, bob.user_id) == "join"
    assert [r.room_id for r in PendingLeave.select()] == [room_id]
    monkeypatch.undo()
    assert deactivation.leave_pending() == [room_id]
    assert membership_of(alice, room_id, bob.user_id) == "leave"
