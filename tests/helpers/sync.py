"""Reading rooms through the HTTP API: /sync (paths, calls, sections) and /messages."""

import json
from urllib.parse import quote

from helpers.api import V3, ok, q


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
    return user.get(f"{V3}/rooms/{q(room_id)}/messages?{query}")
