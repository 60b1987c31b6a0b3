"""Attack: a password reset somebody else asked for. Anyone may ask for a reset of an address
on an account and keeps the session's sid and client_secret; if opening the mailed link
validated the session, a victim who opens the unexpected mail (or a mail scanner fetching
links) would let the attacker set the victim's password. The reset page only asks for
confirmation; only its button (a POST) validates.
"""

import pytest

from mail_support import (RESET_TOKEN, add_address, email_settings, follow,  # noqa: F401
                          link_in, mail_server, request_token, validate)
from rooms_support import V3, ok


@pytest.fixture
def app(mail_server, make_app):  # noqa: F811 - the SMTP server outlives the app
    return make_app(email=email_settings(mail_server))


def test_opening_a_reset_link_hands_over_nothing(client, register_user,
                                                  mail_server):  # noqa: F811
    victim = register_user("victim")
    ok(add_address(victim, validate(client, mail_server, "victim@example.org")))
    # The attacker asks for a reset of the victim's address, keeping the session's secrets.
    start = client.post(f"{V3}/account/password", json={"new_password": "attacker's"})
    sid = ok(request_token(client, RESET_TOKEN, "victim@example.org", "attacker"))["sid"]
    # The victim (or their mail scanner) opens the link.
    page = follow(client, link_in(mail_server.wait_for("victim@example.org")))
    assert "Only continue if it was you" in page.get_data(True)
    takeover = client.post(f"{V3}/account/password", json={
        "new_password": "attacker's",
        "auth": {"type": "m.login.email.identity", "session": start.get_json()["session"],
                 "threepid_creds": {"sid": sid, "client_secret": "attacker"}}})
    assert takeover.status_code == 401
    assert takeover.get_json()["errcode"] == "M_THREEPID_AUTH_FAILED"
    ok(victim.get(f"{V3}/account/whoami"))
