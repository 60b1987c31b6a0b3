"""Notification mails (email.enable_notifs): a user with an email pusher gets a mail about the
notifications left unread for notif_delay_ms, through a real SMTP server; the mail's
unsubscribe link removes the pusher."""

import pytest

from homeserver.services.push import email_notifs
from mail_support import (PASSWORD, REGISTER_TOKEN, add_address, email_settings,  # noqa: F401
                          follow, link_query, mail_server, validate)
from rooms_support import V3, create_room, error, join, ok, q, send_ok
from user_handle import UserHandle

DELAY_MS = 60_000


@pytest.fixture
def app(mail_server, make_app):  # noqa: F811 - the SMTP server outlives the app
    return make_app(email=email_settings(mail_server, enable_notifs=True,
                                         notif_delay_ms=DELAY_MS,
                                         client_base_url="https://chat.example.org"))


def email_pushers(user) -> list[dict]:
    return [p for p in ok(user.get(f"{V3}/pushers"))["pushers"] if p["kind"] == "email"]


def register_with_email(client, mail_server, name):  # noqa: F811
    body = {"username": name, "password": PASSWORD}
    session = client.post(f"{V3}/register", json=body).get_json()["session"]
    creds = validate(client, mail_server, f"{name}@example.org", REGISTER_TOKEN)
    done = ok(client.post(f"{V3}/register", json={**body, "auth": {
        "type": "m.login.email.identity", "session": session, "threepid_creds": creds}}))
    return UserHandle(client, done["user_id"], done["access_token"], done["device_id"],
                      PASSWORD)


def receipt(user, room_id, event_id):
    ok(user.post(f"{V3}/rooms/{q(room_id)}/receipt/m.read/{q(event_id)}", json={}))


def test_unread_messages_are_mailed_once(app, client, register_user, mail_server,
                                         clock):  # noqa: F811
    alice = register_with_email(client, mail_server, "alice")
    assert [p["pushkey"] for p in email_pushers(alice)] == ["alice@example.org"]
    bob = register_user("bob")
    ok(bob.put(f"{V3}/profile/{q(bob.user_id)}/displayname", json={"displayname": "Bob B"}))
    room_id = create_room(bob, name="Tea room", invite=[alice.user_id], is_direct=True)
    join(alice, room_id)
    send_ok(bob, room_id, "are you coming to tea?")
    settings = app.config["HOMESERVER"].email
    with app.app_context():
        # Not unread for long enough yet.
        assert email_notifs.sweep(settings, "http://localhost:8008") == 0
    clock.advance(DELAY_MS)
    email_notifs.kick()
    mail = mail_server.wait_for("alice@example.org")
    assert mail["Subject"] == "[Testrix] You have 1 unread notification"
    text = mail.get_body(("plain",)).get_content()
    assert "Tea room" in text and "Bob B: are you coming to tea?" in text
    assert "https://chat.example.org" in text
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    with app.app_context():
        # Mailed once: a later sweep has nothing new.
        assert email_notifs.sweep(settings, "http://localhost:8008") == 0

    # A message alice reads in time is not mailed.
    clock.advance(DELAY_MS)
    event_id = send_ok(bob, room_id, "never mind")
    receipt(alice, room_id, event_id)
    clock.advance(DELAY_MS)
    with app.app_context():
        assert email_notifs.sweep(settings, "http://localhost:8008") == 0

    # Unsubscribing: the link's page asks, its button stops the mails.
    link = mail["List-Unsubscribe"].strip("<>")
    page = follow(client, link)
    assert "Stop notification mails?" in page.get_data(True)
    assert email_pushers(alice) != []
    done = client.post("/_homeserver/email/unsubscribe", data=link_query(link))
    assert "Unsubscribed" in done.get_data(True)
    assert email_pushers(alice) == []
    again = client.post("/_homeserver/email/unsubscribe", data=link_query(link))
    assert "does not work" in again.get_data(True)


def test_one_click_unsubscribe(app, client, register_user, mail_server, clock):  # noqa: F811
    """RFC 8058: the mail client POSTs List-Unsubscribe=One-Click to the header's URL."""
    alice = register_with_email(client, mail_server, "alice")
    bob = register_user("bob")
    room_id = create_room(bob, invite=[alice.user_id], is_direct=True)
    join(alice, room_id)
    send_ok(bob, room_id, "hi")
    clock.advance(DELAY_MS)
    email_notifs.kick()
    mail = mail_server.wait_for("alice@example.org")
    url = mail["List-Unsubscribe"].strip("<>").removeprefix("http://localhost:8008")
    page = client.post(url, data={"List-Unsubscribe": "One-Click"})
    assert "Unsubscribed" in page.get_data(True)
    assert email_pushers(alice) == []


def test_email_pusher_needs_an_address_of_the_account(app, client, register_user,
                                                      mail_server):  # noqa: F811
    alice = register_user("alice")
    pusher = {"kind": "email", "app_id": "m.email", "pushkey": "alice@example.org",
              "app_display_name": "Email", "device_display_name": "alice@example.org",
              "lang": "en", "data": {}}
    error(alice.post(f"{V3}/pushers/set", json=pusher), 400, "M_INVALID_PARAM")
    ok(add_address(alice, validate(client, mail_server, "alice@example.org")))
    error(alice.post(f"{V3}/pushers/set", json={**pusher, "app_id": "other"}), 400,
          "M_INVALID_PARAM")
    ok(alice.post(f"{V3}/pushers/set", json=pusher))
    assert [p["pushkey"] for p in email_pushers(alice)] == ["alice@example.org"]
    # Taking the address off the account stops its mails.
    ok(alice.post(f"{V3}/account/3pid/delete",
                  json={"medium": "email", "address": "alice@example.org"}))
    assert email_pushers(alice) == []


def test_email_pushers_refused_without_notifs(mail_server, make_app):  # noqa: F811
    client = make_app(email=email_settings(mail_server)).test_client()
    done = ok(client.post(f"{V3}/register", json={"username": "zed", "password": PASSWORD,
                                                  "auth": {"type": "m.login.dummy"}}))
    zed = UserHandle(client, done["user_id"], done["access_token"], done["device_id"],
                     PASSWORD)
    error(zed.post(f"{V3}/pushers/set", json={
        "kind": "email", "app_id": "m.email", "pushkey": "zed@example.org",
        "app_display_name": "Email", "device_display_name": "x", "lang": "en", "data": {}}),
        400, "M_INVALID_PARAM")
