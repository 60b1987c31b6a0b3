"""Attack: a header (Bcc, Subject) or a second SMTP recipient smuggled into the email address
of a requestToken call (CR/LF, ``>, <``, NUL). Refused before any mail is queued.
"""

import pytest

from homeserver.models.email import OutgoingMail
from mail_support import email_settings, mail_server, request_token  # noqa: F401
from rooms_support import error


@pytest.fixture
def app(mail_server, make_app):  # noqa: F811 - the SMTP server outlives the app
    return make_app(email=email_settings(mail_server))


def test_address_cannot_add_headers_or_recipients(client):
    for hostile in ("victim@example.org\r\nBcc: all@example.org",
                    "victim@example.org>, <other@example.org",
                    "victim@example.org\nSubject: x",
                    "victim@example.org\x00",
                    "a" * 400 + "@example.org"):
        error(request_token(client, "/account/3pid/email/requestToken", hostile), 400,
              "M_INVALID_PARAM")
    with client.application.app_context():
        assert OutgoingMail.select().count() == 0
