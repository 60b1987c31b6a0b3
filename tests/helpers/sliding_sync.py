"""Helpers for the sliding sync (MSC4186) tests: requests to the unstable endpoint."""

from urllib.parse import quote

SSS = "/_matrix/client/unstable/org.matrix.simplified_msc3575/sync"


def sss_request(user, body, pos=None, timeout=None):
    params = []
    if pos is not None:
        params.append(f"pos={quote(pos)}")
    if timeout is not None:
        params.append(f"timeout={timeout}")
    path = SSS + ("?" + "&".join(params) if params else "")
    return user.post(path, json=body)


def sss(user, body, pos=None, timeout=None):
    response = sss_request(user, body, pos=pos, timeout=timeout)
    assert response.status_code == 200, (response.status_code, response.get_json())
    return response.get_json()


def all_rooms(ranges=((0, 19),), timeline_limit=1, required_state=(), **extra):
    return {"lists": {"all": {"ranges": [list(r) for r in ranges],
                              "timeline_limit": timeline_limit,
                              "required_state": [list(p) for p in required_state], **extra}}}


def bodies(events):
    return [event["content"].get("body") for event in events]
