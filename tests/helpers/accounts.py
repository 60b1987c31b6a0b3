"""Accounts through the HTTP API: the password stage of user-interactive auth, deactivation."""

from homeserver.models.users import User
from helpers.api import V3

DEFAULT_PASSWORD = "correct horse battery"  # register_user's default


def password_auth(user, password=DEFAULT_PASSWORD, session=None) -> dict:
    """An m.login.password auth dict for the localpart or user ID ``user``."""
    auth = {"type": "m.login.password", "password": password,
            "identifier": {"type": "m.id.user", "user": user}}
    if session is not None:
        auth["session"] = session
    return auth


def make_admin(handle):
    """The server admin flag (no API sets it: the operator does, in the database)."""
    User.update(is_admin=True).where(User.user_id == handle.user_id).execute()
    return handle


def deactivate(user, **body):
    """POST /account/deactivate through its password stage; asserts the 401 challenge, then 200."""
    first = user.post(f"{V3}/account/deactivate", json=body)
    assert first.status_code == 401, first.get_json()
    session = first.get_json()["session"]
    response = user.post(f"{V3}/account/deactivate", json={**body, "auth": {
        "type": "m.login.password", "session": session, "password": user.password,
        "identifier": {"type": "m.id.user", "user": user.user_id}}})
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"id_server_unbind_result": "success"}
