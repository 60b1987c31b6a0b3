"""Client-Server API paths and the response checks every test through HTTP uses."""

from urllib.parse import quote

V1 = "/_matrix/client/v1"
V3 = "/_matrix/client/v3"


def q(value: str) -> str:
    """A path segment (room IDs, event IDs, aliases and state keys may hold / + # :)."""
    return quote(value, safe="")


def ok(response):
    """The JSON body of a 200 answer (the assertion shows any other status and its body)."""
    assert response.status_code == 200, (response.status_code, response.get_json())
    return response.get_json()


def error(response, status: int, errcode: str) -> dict:
    """The body of an error answer, asserting its status and errcode."""
    body = response.get_json()
    assert (response.status_code, body.get("errcode")) == (status, errcode), \
        (response.status_code, body)
    return body
