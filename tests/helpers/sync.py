"""Helpers for the sync and history tests: rooms, messages and syncs through the HTTP API."""

import itertools
import json
from urllib.parse import quote

V3 = "/_matrix/client/v3"
V1 = "/_matrix/client/v1"

_txn = itertools.count()


def ok(response):
    assert response.status_code == 200, (response.status_code, response.get_json())
    return response.get_json()


def create_room(user, **body) -> str:
    return ok(user.post(f"{V3}/createRoom", json=body))["room_id"]


def send(user, room_id, body="hello", event_type="m.room.message", **content) -> str:
    content = {"msgtype": "m.text", "body": body, **content}
    path = f"{V3}/rooms/{quote(room_id)}/send/{event_type}/t{next(_txn)}"
    return ok(user.put(path, json=content))["event_id"]


def set_state(user, room_id, event_type, content, state_key="") -> str:
    path = f"{V3}/rooms/{quote(room_id)}/state/{event_type}/{quote(state_key, safe='')}"
    return ok(user.put(path, json=content))["event_id"]


def invite(user, room_id, target):
    ok(user.post(f"{V3}/rooms/{quote(room_id)}/invite", json={"user_id": target.user_id}))


def join(user, room_id):
    ok(user.post(f"{V3}/join/{quote(room_id)}", json={}))


def leave(user, room_id):
    ok(user.post(f"{V3}/rooms/{quote(room_id)}/leave", json={}))


def sync_path(since=None, filter=None, timeout=None, full_state=None, **extra):
    params = []
    if since is not None:
        params.append(f"since={quote(since)}")
    if filter is not None:
        value = filter if isinstance(filter, str) else json.dumps(filter)
        params.append(f"filter={quote(value)}")
    if timeout is not None:
        params.append(f"timeout={timeout}")
    if full_state is not None:
        params.append(f"full_state={'true' if full_state else 'false'}")
    params.extend(f"{k}={quote(str(v))}" for k, v in extra.items())
    return f"{V3}/sync" + ("?" + "&".join(params) if params else "")


def sync(user, **kwargs):
    return ok(user.get(sync_path(**kwargs)))


def joined(response, room_id):
    return response["rooms"]["join"][room_id]


def event_ids(events):
    return [event["event_id"] for event in events]


def timeline_ids(response, room_id, section="join"):
    return event_ids(response["rooms"][section][room_id]["timeline"]["events"])


def state_keys(events):
    return {(event["type"], event["state_key"]) for event in events}


def messages(user, room_id, **params):
    query = "&".join(f"{k}={quote(str(v))}" for k, v in params.items())
    return user.get(f"{V3}/rooms/{quote(room_id)}/messages?{query}")
