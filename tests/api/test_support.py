"""GET /.well-known/matrix/support from the `support` configuration section."""

import os

import pytest

from homeserver.config import ConfigError, load_config

URL = "/.well-known/matrix/support"


def test_not_configured_answers_404(client):
    response = client.get(URL)
    assert response.status_code == 404
    assert response.get_json()["errcode"] == "M_NOT_FOUND"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_contacts_and_page(make_app):
    app = make_app(support={
        "contacts": [
            {"matrix_id": "@admin:example.org", "email_address": "admin@example.org",
             "role": "m.role.admin"},
            {"email_address": "security@example.org", "role": "m.role.security"}],
        "support_page": "https://example.org/support.html"})
    response = app.test_client().get(URL)
    assert response.status_code == 200
    assert response.get_json() == {
        "contacts": [
            {"matrix_id": "@admin:example.org", "email_address": "admin@example.org",
             "role": "m.role.admin"},
            {"email_address": "security@example.org", "role": "m.role.security"}],
        "support_page": "https://example.org/support.html"}


def test_page_only(make_app):
    app = make_app(support={"support_page": "https://example.org/help"})
    assert app.test_client().get(URL).get_json() == {"support_page": "https://example.org/help"}


@pytest.mark.parametrize("support,key", [
    ({"contacts": [{"role": "m.role.admin"}]}, "support.contacts.0.matrix_id"),
    ({"contacts": [{"matrix_id": "admin", "role": "m.role.admin"}]},
     "support.contacts.0.matrix_id"),
    ({"contacts": [{"email_address": "not an address", "role": "m.role.admin"}]},
     "support.contacts.0.email_address"),
    ({"contacts": [{"email_address": "a@example.org"}]}, "support.contacts.0.role"),
    ({"support_page": "not a url"}, "support.support_page"),
    ({"page": "https://example.org"}, "support.page"),
])
def test_bad_configuration_is_refused(support, key):
    with pytest.raises(ConfigError) as info:
        load_config(path=os.devnull, environ={}, overrides={"support": support})
    # (Positions in lists are not named: the key path is enough to find the entry.)
    assert key in str(info.value)
