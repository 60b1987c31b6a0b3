"""SMTP transport security (README "Email"): STARTTLS when offered, required with
require_transport_security, implicit TLS with enable_tls, SMTP AUTH only over TLS; against
aiosmtpd with a certificate of a test CA (trustme) that the server trusts through
SSL_CERT_FILE, as an internal CA would be."""

import ssl

import pytest
import trustme
from aiosmtpd.smtp import AuthResult

from homeserver.models.email import OutgoingMail
from mail_support import ADD_TOKEN, MailServer, email_settings, request_token, wait_until
from rooms_support import ok


@pytest.fixture
def ca(tmp_path, monkeypatch):
    authority = trustme.CA()
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    return authority


def server_context(ca) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


def check_login(server, session, envelope, mechanism, auth_data):
    ok_login = auth_data.login == b"matrix" and auth_data.password == b"s3cret"
    return AuthResult(success=ok_login, auth_data=auth_data.login)


@pytest.fixture
def servers():
    started = []

    def start(**options):
        server = MailServer(**options)
        started.append(server)
        return server
    yield start
    for server in started:
        server.close()


def outbox(app):
    with app.app_context():
        return list(OutgoingMail.select())


def test_starttls_and_login(servers, make_app, ca):
    smtp = servers(tls_context=server_context(ca), require_starttls=True,
                   authenticator=check_login, auth_required=True)
    app = make_app(email=email_settings(smtp, smtp_user="matrix", smtp_pass="s3cret",
                                        require_transport_security=True))
    ok(request_token(app.test_client(), ADD_TOKEN, "tls@example.org"))
    mail = smtp.wait_for("tls@example.org")
    assert mail.over_tls and mail.login == b"matrix"


def test_implicit_tls(servers, make_app, ca):
    smtp = servers(ssl_context=server_context(ca))
    app = make_app(email=email_settings(smtp, enable_tls=True))
    ok(request_token(app.test_client(), ADD_TOKEN, "smtps@example.org"))
    assert smtp.wait_for("smtps@example.org").over_tls


def test_required_transport_security_refuses_a_plain_server(servers, make_app):
    plain = servers()
    app = make_app(email=email_settings(plain, require_transport_security=True))
    ok(request_token(app.test_client(), ADD_TOKEN, "plain@example.org"))
    # The attempt fails before any mail is handed over; the mail waits for a retry.
    assert wait_until(lambda: [m.attempts for m in outbox(app)] == [1])
    assert plain.count_to("plain@example.org") == 0


def test_untrusted_certificate_is_refused(servers, make_app, tmp_path, monkeypatch):
    smtp = servers(tls_context=server_context(trustme.CA()))  # a CA nobody trusts
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "none.pem"))
    app = make_app(email=email_settings(smtp))
    ok(request_token(app.test_client(), ADD_TOKEN, "mitm@example.org"))
    assert wait_until(lambda: [m.attempts for m in outbox(app)] == [1])
    assert smtp.count_to("mitm@example.org") == 0
