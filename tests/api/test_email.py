"""Email addresses on accounts, end to end through a real SMTP server (aiosmtpd on loopback):
requestToken mails a link, the test follows it, then adds the address, logs in with it,
registers with it, resets a password with it (spec: "Adding Account Administrative Contact
Information", "Password management", m.login.email.identity)."""

import socket
from urllib.parse import urlsplit

import pytest
from prometheus_client.parser import text_string_to_metric_families

from homeserver.models.email import OutgoingMail
from homeserver.services import workers
from homeserver.services.mail import outbox as mail_outbox
from helpers.mail import (ADD_TOKEN, PASSWORD, REGISTER_TOKEN, RESET_TOKEN,  # noqa: F401
                          add_address, code_in, email_settings, follow, link_in, link_query,
                          mail_server, request_token, validate)
from helpers.api import V3, error, ok
from helpers.accounts import password_auth
from helpers.waiting import wait_until


@pytest.fixture
def app(mail_server, make_app):  # noqa: F811 - the SMTP server outlives the app
    return make_app(email=email_settings(mail_server))


def test_add_address_then_log_in_with_it(client, register_user, mail_server):  # noqa: F811
    alice = register_user("alice")
    answer = ok(request_token(client, ADD_TOKEN, "Alice@Example.ORG"))
    assert answer["submit_url"] == "http://localhost:8008/_homeserver/email/submit_token"
    mail = mail_server.wait_for("alice@example.org")
    assert mail["From"] == "Test Server <noreply@example.org>"
    assert "Testrix" in mail["Subject"]
    creds = {"sid": answer["sid"], "client_secret": "s3cret"}
    # Not validated yet: the address cannot be added.
    error(alice.post(f"{V3}/account/3pid/add",
                     json={**creds, "auth": password_auth(alice.user_id, PASSWORD, "nope")}),
          401, "M_FORBIDDEN")
    page = follow(client, link_in(mail))
    assert "Email address validated" in page.get_data(True)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    ok(add_address(alice, creds))
    listed = ok(alice.get(f"{V3}/account/3pid"))["threepids"]
    assert [(t["medium"], t["address"]) for t in listed] == [("email", "alice@example.org")]
    assert {"validated_at", "added_at"} <= set(listed[0])

    logged_in = ok(client.post(f"{V3}/login", json={
        "type": "m.login.password", "password": PASSWORD,
        "identifier": {"type": "m.id.thirdparty", "medium": "email",
                       "address": "ALICE@example.org"}}))
    assert logged_in["user_id"] == alice.user_id
    legacy = ok(client.post(f"{V3}/login", json={
        "type": "m.login.password", "password": PASSWORD, "medium": "email",
        "address": "alice@example.org"}))
    assert legacy["user_id"] == alice.user_id
    # An unknown address is a failed login like a wrong password, nothing more.
    error(client.post(f"{V3}/login", json={
        "type": "m.login.password", "password": PASSWORD,
        "identifier": {"type": "m.id.thirdparty", "medium": "email",
                       "address": "nobody@example.org"}}), 403, "M_FORBIDDEN")
    assert ok(alice.get(f"{V3}/capabilities"))["capabilities"]["m.3pid_changes"] == {
        "enabled": True}

    deleted = ok(alice.post(f"{V3}/account/3pid/delete",
                            json={"medium": "email", "address": "alice@example.org"}))
    assert deleted == {"id_server_unbind_result": "no-support"}
    assert ok(alice.get(f"{V3}/account/3pid")) == {"threepids": []}
    # Again: as Synapse, no error (the address may have been only bound at an identity server).
    assert ok(alice.post(f"{V3}/account/3pid/delete", json={
        "medium": "email", "address": "alice@example.org"})) == {
        "id_server_unbind_result": "no-support"}


def test_code_through_submit_url(client, register_user, mail_server):  # noqa: F811
    alice = register_user("alice")
    answer = ok(request_token(client, ADD_TOKEN, "alice@example.org"))
    code = code_in(mail_server.wait_for("alice@example.org"))
    submit = urlsplit(answer["submit_url"]).path
    wrong = client.post(submit, json={"sid": answer["sid"], "client_secret": "s3cret",
                                      "token": "wrong"})
    assert ok(wrong) == {"success": False}
    other_secret = client.post(submit, json={"sid": answer["sid"], "client_secret": "other",
                                             "token": code})
    assert ok(other_secret) == {"success": False}
    right = client.post(submit, json={"sid": answer["sid"], "client_secret": "s3cret",
                                      "token": code})
    assert ok(right) == {"success": True}
    ok(add_address(alice, {"sid": answer["sid"], "client_secret": "s3cret"}))


def test_send_attempt_and_expiry(client, mail_server, clock):  # noqa: F811
    first = ok(request_token(client, ADD_TOKEN, "bob@example.org", attempt=1))
    old_mail = mail_server.wait_for("bob@example.org")
    # The same attempt again: the same session, no second mail.
    again = ok(request_token(client, ADD_TOKEN, "bob@example.org", attempt=1))
    assert again["sid"] == first["sid"]
    # A higher attempt mails a new token; only the newest works.
    ok(request_token(client, ADD_TOKEN, "bob@example.org", attempt=2))
    new_mail = mail_server.wait_for("bob@example.org")
    assert mail_server.count_to("bob@example.org") == 2
    assert "does not work" in follow(client, link_in(old_mail)).get_data(True)
    clock.advance(3600 * 1000 + 1)
    assert "does not work" in follow(client, link_in(new_mail)).get_data(True)
    ok(request_token(client, ADD_TOKEN, "bob@example.org", attempt=3))
    assert "validated" in follow(client, link_in(mail_server.wait_for("bob@example.org"))
                                 ).get_data(True)


def test_spec_errors(client, register_user, mail_server):  # noqa: F811
    alice = register_user("alice")
    ok(add_address(alice, validate(client, mail_server, "alice@example.org")))
    error(request_token(client, ADD_TOKEN, "alice@example.org", "x2"), 400, "M_THREEPID_IN_USE")
    error(request_token(client, REGISTER_TOKEN, "alice@example.org", "x3"), 400,
          "M_THREEPID_IN_USE")
    error(request_token(client, RESET_TOKEN, "nobody@example.org"), 400,
          "M_THREEPID_NOT_FOUND")
    error(request_token(client, ADD_TOKEN, "x@example.org", secret="not secret!"), 400,
          "M_INVALID_PARAM")
    error(request_token(client, ADD_TOKEN, "x@example.org", next_link="javascript:alert(1)"),
          400, "M_INVALID_PARAM")
    for bad in ("no-at-sign", "a@b", "two@at@example.org", "a b@example.org", ""):
        error(request_token(client, ADD_TOKEN, bad), 400, "M_INVALID_PARAM")
    error(client.post(f"{V3}{ADD_TOKEN}", json={"client_secret": "s", "email": "a@b.org"}),
          400, "M_BAD_JSON")
    # Another account cannot take an address that is in use, even with a session of its own.
    bob = register_user("bob")
    error(add_address(bob, {"sid": "unknown", "client_secret": "s3cret"}), 400,
          "M_THREEPID_AUTH_FAILED")


def test_password_reset_by_email(client, register_user, mail_server):  # noqa: F811
    alice = register_user("alice")
    ok(add_address(alice, validate(client, mail_server, "alice@example.org")))
    start = client.post(f"{V3}/account/password", json={"new_password": "brand new"})
    assert start.status_code == 401
    assert start.get_json()["flows"] == [{"stages": ["m.login.email.identity"]}]
    session = start.get_json()["session"]

    sid = ok(request_token(client, RESET_TOKEN, "alice@example.org", "r3set"))["sid"]
    link = link_in(mail_server.wait_for("alice@example.org"))
    # Opening the link only asks for confirmation: a reset nobody confirmed proves nothing.
    page = follow(client, link)
    assert "Reset your password?" in page.get_data(True)
    creds = {"sid": sid, "client_secret": "r3set"}
    auth = {"type": "m.login.email.identity", "session": session, "threepid_creds": creds}
    refused = client.post(f"{V3}/account/password",
                          json={"new_password": "brand new", "auth": auth})
    assert refused.status_code == 401
    assert refused.get_json()["errcode"] == "M_THREEPID_AUTH_FAILED"
    confirmed = client.post("/_homeserver/email/validate", data=link_query(link))
    assert "Email address validated" in confirmed.get_data(True)

    ok(client.post(f"{V3}/account/password", json={"new_password": "brand new", "auth": auth}))
    # Every device is logged out (logout_devices defaults to true); the new password works.
    error(alice.get(f"{V3}/account/whoami"), 401, "M_UNKNOWN_TOKEN")
    error(client.post(f"{V3}/login", json={"type": "m.login.password", "password": PASSWORD,
                                           "user": "alice"}), 403, "M_FORBIDDEN")
    ok(client.post(f"{V3}/login", json={"type": "m.login.password", "password": "brand new",
                                        "user": "alice"}))


def test_password_reset_can_keep_devices(client, register_user, mail_server):  # noqa: F811
    alice = register_user("alice")
    ok(add_address(alice, validate(client, mail_server, "alice@example.org")))
    creds = validate(client, mail_server, "alice@example.org", RESET_TOKEN, "r3set")
    start = client.post(f"{V3}/account/password",
                        json={"new_password": "brand new", "logout_devices": False})
    session = start.get_json()["session"]
    ok(client.post(f"{V3}/account/password", json={
        "new_password": "brand new", "logout_devices": False,
        "auth": {"type": "m.login.email.identity", "session": session, "threepid_creds": creds}}))
    ok(alice.get(f"{V3}/account/whoami"))


def test_register_with_email(client, mail_server):  # noqa: F811
    body = {"username": "carol", "password": PASSWORD}
    start = client.post(f"{V3}/register", json=body)
    assert start.status_code == 401
    assert start.get_json()["flows"] == [{"stages": ["m.login.dummy"]},
                                         {"stages": ["m.login.email.identity"]}]
    creds = validate(client, mail_server, "carol@example.org", REGISTER_TOKEN)
    done = ok(client.post(f"{V3}/register", json={**body, "auth": {
        "type": "m.login.email.identity", "session": start.get_json()["session"],
        "threepid_creds": creds}}))
    carol_headers = {"Authorization": f"Bearer {done['access_token']}"}
    listed = ok(client.get(f"{V3}/account/3pid", headers=carol_headers))["threepids"]
    assert [t["address"] for t in listed] == ["carol@example.org"]
    # Deactivation frees the address.
    start = client.post(f"{V3}/account/deactivate", json={}, headers=carol_headers)
    ok(client.post(f"{V3}/account/deactivate", headers=carol_headers, json={"auth": {
        "type": "m.login.password", "session": start.get_json()["session"],
        "password": PASSWORD, "identifier": {"type": "m.id.user", "user": "carol"}}}))
    ok(request_token(client, REGISTER_TOKEN, "carol@example.org", "again"))


def test_registration_can_require_email(mail_server, make_app):  # noqa: F811
    client = make_app(email=email_settings(mail_server),
                      registration={"require_email": True}).test_client()
    start = client.post(f"{V3}/register", json={"username": "dan", "password": PASSWORD})
    assert start.get_json()["flows"] == [{"stages": ["m.login.email.identity"]}]
    error(client.post(f"{V3}/register", json={"username": "dan", "password": PASSWORD,
                                              "auth": {"type": "m.login.dummy",
                                                       "session": start.get_json()["session"]}}),
          401, "M_FORBIDDEN")


def test_rate_limit_per_address(mail_server, make_app):  # noqa: F811
    limits = {"enabled": True, "email_request_per_address": {"per_second": 0.001, "burst": 1}}
    client = make_app(email=email_settings(mail_server), rate_limits=limits).test_client()
    ok(request_token(client, ADD_TOKEN, "eve@example.org", "one"))
    # A repeated attempt sends nothing and costs nothing.
    ok(request_token(client, ADD_TOKEN, "eve@example.org", "one"))
    error(request_token(client, ADD_TOKEN, "eve@example.org", "two"), 429, "M_LIMIT_EXCEEDED")
    error(request_token(client, ADD_TOKEN, "EVE@example.org ", "three"), 429, "M_LIMIT_EXCEEDED")
    ok(request_token(client, ADD_TOKEN, "frank@example.org", "four"))
    mail_server.wait_for("frank@example.org")
    assert mail_server.count_to("eve@example.org") == 1


def test_without_email_config(make_app):
    client = make_app().test_client()
    error(request_token(client, ADD_TOKEN, "a@example.org"), 400,
          "M_THREEPID_MEDIUM_NOT_SUPPORTED")
    error(request_token(client, REGISTER_TOKEN, "a@example.org"), 403, "M_THREEPID_DENIED")
    error(request_token(client, RESET_TOKEN, "a@example.org"), 403, "M_THREEPID_DENIED")
    error(client.post(f"{V3}/account/password", json={"new_password": "x"}), 401,
          "M_MISSING_TOKEN")
    error(client.get("/_homeserver/email/validate?sid=a&client_secret=b&token=c"), 404,
          "M_UNRECOGNIZED")
    start = client.post(f"{V3}/register", json={"username": "gus", "password": PASSWORD})
    assert start.get_json()["flows"] == [{"stages": ["m.login.dummy"]}]


def outbox(app) -> list[OutgoingMail]:
    with app.app_context():
        return list(OutgoingMail.select())


def test_mail_outlives_a_failing_smtp_server(app, client, mail_server, clock):  # noqa: F811
    mail_server.refuse_with = "451 4.3.0 Try again later"
    ok(request_token(client, ADD_TOKEN, "gina@example.org"))
    assert wait_until(lambda: [m.attempts for m in outbox(app)] == [1])
    mail_server.refuse_with = None
    clock.advance(mail_outbox.FIRST_RETRY_MS)
    mail_outbox.kick(app.config["HOMESERVER"].email)
    assert "gina@example.org" == mail_server.wait_for("gina@example.org")["To"]
    assert wait_until(lambda: outbox(app) == [])


def test_mail_outlives_a_restart(mail_server, make_app, clock):  # noqa: F811
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    first = make_app(email=email_settings(mail_server, smtp_port=closed_port))
    ok(request_token(first.test_client(), ADD_TOKEN, "hal@example.org"))
    assert wait_until(lambda: [m.attempts for m in outbox(first)] == [1])
    workers.stop_all()  # the process ends, the mail stays queued
    clock.advance(mail_outbox.FIRST_RETRY_MS)
    # A new process with the SMTP server back sends it at its first request.
    second = make_app(email=email_settings(mail_server))
    ok(second.test_client().get("/_matrix/client/versions"))
    mail_server.wait_for("hal@example.org")


def test_permanent_refusal_drops_the_mail(app, client, mail_server):  # noqa: F811
    mail_server.refuse_with = "550 5.1.1 No such mailbox"
    ok(request_token(client, ADD_TOKEN, "ivy@example.org"))
    assert wait_until(lambda: outbox(app) == [])  # not retried for a day
    assert mail_server.count_to("ivy@example.org") == 0


def test_metrics_count_mails(mail_server, make_app, clock):  # noqa: F811
    app = make_app(email=email_settings(mail_server), metrics={"enabled": True})
    client = app.test_client()

    def sample(name, **labels):
        text = client.get("/metrics").get_data(as_text=True)
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                if s.name == name and s.labels == labels:
                    return s.value
        return 0.0

    sent = sample("homeserver_mails_total", outcome="sent")
    retried = sample("homeserver_mails_total", outcome="retry")
    mail_server.refuse_with = "451 4.3.0 Try again later"
    ok(request_token(client, ADD_TOKEN, "kim@example.org"))
    assert wait_until(lambda: [m.attempts for m in outbox(app)] == [1])
    clock.advance(30_000)
    assert sample("homeserver_mail_queue_depth") == 1
    assert sample("homeserver_mail_queue_oldest_age_seconds") == 30.0
    assert sample("homeserver_mails_total", outcome="retry") == retried + 1
    mail_server.refuse_with = None
    clock.advance(mail_outbox.FIRST_RETRY_MS)
    mail_outbox.kick(app.config["HOMESERVER"].email)
    mail_server.wait_for("kim@example.org")
    assert wait_until(lambda: sample("homeserver_mails_total", outcome="sent") == sent + 1)
    assert sample("homeserver_mail_queue_depth") == 0


def test_deprecated_post_3pid_and_next_link(client, register_user, mail_server):  # noqa: F811
    alice = register_user("alice")
    sid = ok(request_token(client, ADD_TOKEN, "alice@example.org",
                           next_link="https://app.example.org/done"))["sid"]
    page = follow(client, link_in(mail_server.wait_for("alice@example.org")))
    # Validated, then sent on to the client's next_link.
    assert page.status_code == 302 and page.headers["Location"] == "https://app.example.org/done"
    ok(alice.post(f"{V3}/account/3pid", json={"three_pid_creds": {
        "sid": sid, "client_secret": "s3cret", "id_server": "id.example.org",
        "id_access_token": "unused"}}))
    listed = ok(alice.get(f"{V3}/account/3pid"))["threepids"]
    assert [t["address"] for t in listed] == ["alice@example.org"]
