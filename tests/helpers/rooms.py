"""Rooms through the HTTP API: create, send, state, membership, redaction.

One convention: a helper a test uses to see a refusal returns the response (``send``,
``put_state``, ``get_event``, ``get_state_event``, ``membership_action``, ``redact``); its
``_ok`` twin asserts 200 and returns the new event's ID (``send_ok``, ``put_state_ok``). The
setup steps (``create_room``, ``join``, ``invite``, ``leave``) assert 200 and return what the
server answered.
"""

import itertools

from helpers.api import V3, ok, q

# One transaction-ID counter for the process, so that no two helper sends of a device collide.
_txn = itertools.count()


def create_room(user, **body) -> str:
    return ok(user.post(f"{V3}/createRoom", json=body))["room_id"]


def send(user, room_id, body="hello", *, event_type="m.room.message", txn=None, **content):
    txn = txn or f"t{next(_txn)}"
    content = {"msgtype": "m.text", "body": body, **content}
    return user.put(f"{V3}/rooms/{q(room_id)}/send/{q(event_type)}/{q(txn)}", json=content)


def send_ok(user, room_id, body="hello", **kwargs) -> str:
    return ok(send(user, room_id, body, **kwargs))["event_id"]


def put_state(user, room_id, event_type, content, state_key=""):
    return user.put(f"{V3}/rooms/{q(room_id)}/state/{q(event_type)}/{q(state_key)}",
                    json=content)


def put_state_ok(user, room_id, event_type, content, state_key="") -> str:
    return ok(put_state(user, room_id, event_type, content, state_key))["event_id"]


def get_state_event(user, room_id, event_type, state_key="", **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return user.get(f"{V3}/rooms/{q(room_id)}/state/{q(event_type)}/{q(state_key)}"
                    + (f"?{query}" if query else ""))


def state_map(user, room_id) -> dict:
    return {(e["type"], e["state_key"]): e
            for e in ok(user.get(f"{V3}/rooms/{q(room_id)}/state"))}


def get_event(user, room_id, event_id):
    return user.get(f"{V3}/rooms/{q(room_id)}/event/{q(event_id)}")


def membership_action(user, room_id, action, **body):
    return user.post(f"{V3}/rooms/{q(room_id)}/{action}", json=body)


def invite(user, room_id, target, **body):
    return ok(membership_action(user, room_id, "invite", user_id=_id(target), **body))


def join(user, room_id_or_alias, **body) -> str:
    return ok(user.post(f"{V3}/join/{q(room_id_or_alias)}", json=body))["room_id"]


def leave(user, room_id, **body):
    return ok(membership_action(user, room_id, "leave", **body))


def redact(user, room_id, event_id, txn=None, **body):
    txn = txn or f"r{next(_txn)}"
    return user.put(f"{V3}/rooms/{q(room_id)}/redact/{q(event_id)}/{q(txn)}", json=body)


def member_content(user, room_id, target) -> dict:
    return state_map(user, room_id)[("m.room.member", _id(target))]["content"]


def _id(target) -> str:
    return target if isinstance(target, str) else target.user_id


def room_with_members(register_user, *names, **create_body):
    """A room created by the first user, which the others joined (public_chat preset)."""
    users = [register_user(name) for name in names]
    create_body.setdefault("preset", "public_chat")
    room_id = create_room(users[0], **create_body)
    for user in users[1:]:
        join(user, room_id)
    return room_id, users
