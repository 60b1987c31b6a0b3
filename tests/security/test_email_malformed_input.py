"""Attack: wrong types and out-of-range values anywhere in the email endpoints. An integer too
large for the database (send_attempt 10**30, a 40-digit pusher ID in an unsubscribe link) was
a 500 (OverflowError); every answer must be a 4xx Matrix error or the page's own refusal.
"""

import pytest

from mail_support import RESET_TOKEN, email_settings, mail_server  # noqa: F401
from rooms_support import V3


@pytest.fixture
def app(mail_server, make_app):  # noqa: F811 - the SMTP server outlives the app
    return make_app(email=email_settings(mail_server))


def test_malformed_requests_get_standard_errors(client, register_user):
    """Wrong types and shapes anywhere in the email endpoints: a 4xx Matrix error, no 500."""
    alice = register_user("alice")
    bodies = [{"client_secret": 1, "email": "a@b.org", "send_attempt": 1},
              {"client_secret": "s", "email": ["a@b.org"], "send_attempt": 1},
              {"client_secret": "s", "email": "a@b.org", "send_attempt": "1"},
              {"client_secret": "s", "email": "a@b.org", "send_attempt": 1, "next_link": 5},
              {"client_secret": "s" * 300, "email": "a@b.org", "send_attempt": 1},
              {"client_secret": "s", "email": "a@b.org", "send_attempt": 10 ** 30},
              [], "x"]
    for path in ("/account/3pid/email/requestToken", "/register/email/requestToken",
                 RESET_TOKEN):
        for body in bodies:
            response = client.post(f"{V3}{path}", json=body)
            assert 400 <= response.status_code < 500, (path, body, response.get_json())
            assert response.get_json()["errcode"].startswith("M_")
    for body in ([], {"sid": 1, "client_secret": [], "token": {}}, {}):
        response = client.post("/_homeserver/email/submit_token", json=body)
        assert response.status_code in (200, 400), body
        if response.status_code == 200:
            assert response.get_json() == {"success": False}
    for query in ("", "?sid=x", "?sid=" + "x" * 5000 + "&client_secret=y&token=z"):
        assert "does not work" in client.get(f"/_homeserver/email/validate{query}").get_data(
            True)
    assert "does not work" in client.post("/_homeserver/email/unsubscribe",
                                          data={"pusher": "1" * 40, "token": "x"}).get_data(True)
    for creds in (None, "x", {"sid": 1}, {"sid": "a", "client_secret": None}, []):
        start = client.post(f"{V3}/account/password", json={"new_password": "n"})
        response = client.post(f"{V3}/account/password", json={"new_password": "n", "auth": {
            "type": "m.login.email.identity", "session": start.get_json()["session"],
            "threepid_creds": creds}})
        assert response.status_code == 401, creds
        assert response.get_json()["errcode"] in ("M_MISSING_PARAM", "M_THREEPID_AUTH_FAILED")
    for body in ({"sid": 1, "client_secret": "x"}, {"sid": "x"}, {"three_pid_creds": "x"}):
        response = alice.post(f"{V3}/account/3pid/add", json=body)
        assert response.status_code == 400 and response.get_json()["errcode"] == "M_BAD_JSON"
    response = alice.post(f"{V3}/account/3pid", json={"three_pid_creds": {
        "sid": "x", "client_secret": "y", "id_server": "z", "id_access_token": "t"}})
    assert response.get_json()["errcode"] == "M_THREEPID_AUTH_FAILED"
