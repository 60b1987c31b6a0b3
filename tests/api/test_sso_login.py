"""Login through an OpenID Connect provider (spec: "SSO client login/authentication"), with a
real provider on loopback (tests/helpers/oidc_provider.py) and a requests session as the
browser."""

import requests

from helpers.appservice import as_headers, registration, write_registration
from helpers.media import upload
from helpers.sso import CLIENT_URL, hs, idp, sso_login, start_hs, token_login  # noqa: F401


def test_login_flows_list_sso_only_with_a_provider(make_app, idp):
    plain = make_app().test_client().get("/_matrix/client/v3/login").get_json()
    assert "m.login.sso" not in [flow["type"] for flow in plain["flows"]]

    app = make_app(oidc_providers=[idp.homeserver_config(idp_icon="mxc://example.org/icon",
                                                         idp_brand="keycloak")])
    flows = app.test_client().get("/_matrix/client/v3/login").get_json()["flows"]
    sso = [flow for flow in flows if flow["type"] == "m.login.sso"]
    assert sso == [{"type": "m.login.sso", "identity_providers": [
        {"id": "test-idp", "name": "Test IdP", "icon": "mxc://example.org/icon",
         "brand": "keycloak"}]}]
    assert {"type": "m.login.token", "get_login_token": True} in flows


def test_sso_redirect_is_not_routed_without_a_provider(client):
    response = client.get("/_matrix/client/v3/login/sso/redirect?redirectUrl=https://c.example/")
    assert response.status_code == 404
    assert response.get_json()["errcode"] == "M_UNRECOGNIZED"


def test_first_login_creates_the_account_and_logs_in(hs, idp):
    browser = requests.Session()
    landing = sso_login(browser, hs, "alice", "alice's password")
    assert landing.client_url is not None, landing.response.text
    # The client's own parameters are kept, the token added.
    assert landing.client_url.startswith("https://client.example.org/sso-done?client_state=1&")
    login = token_login(hs, landing.login_token)
    assert login.status_code == 200, login.text
    body = login.json()
    # The claim "Alice" mapped to a lower-case localpart; display name from the "name" claim.
    assert body["user_id"] == "@alice:localhost:8008"
    profile = requests.get(hs.url("/_matrix/client/v3/profile/@alice:localhost:8008"), timeout=30)
    assert profile.json()["displayname"] == "Alice Liddell"
    whoami = requests.get(hs.url("/_matrix/client/v3/account/whoami"), timeout=30,
                          headers={"Authorization": f"Bearer {body['access_token']}"})
    assert whoami.json()["user_id"] == "@alice:localhost:8008"


def test_next_login_finds_the_same_account(hs, idp):
    first = sso_login(requests.Session(), hs, "alice", "alice's password")
    assert token_login(hs, first.login_token).json()["user_id"] == "@alice:localhost:8008"
    # The provider renames the user: the subject still names the same account.
    idp.users["alice"].claims["preferred_username"] = "someone-else"
    again = sso_login(requests.Session(), hs, "alice", "alice's password")
    assert token_login(hs, again.login_token).json()["user_id"] == "@alice:localhost:8008"


def test_a_taken_username_gets_the_next_free_one(hs, idp, register_user):
    register_user("alice")
    landing = sso_login(requests.Session(), hs, "alice", "alice's password")
    assert token_login(hs, landing.login_token).json()["user_id"] == "@alice1:localhost:8008"


def test_existing_users_are_linked_only_when_allowed(start_hs, idp, register_user):
    register_user("alice")
    hs = start_hs(providers=[idp.homeserver_config(allow_existing_users=True)])
    landing = sso_login(requests.Session(), hs, "alice", "alice's password")
    assert token_login(hs, landing.login_token).json()["user_id"] == "@alice:localhost:8008"
    # A second provider user with the same username does not get into alice's account.
    idp.add_user("mallory", "pw", sub="sub-mallory", preferred_username="alice")
    stolen = sso_login(requests.Session(), hs, "mallory", "pw")
    assert stolen.client_url is None
    assert stolen.response.status_code == 403
    assert "belongs to another user" in stolen.response.text


def test_the_username_page_when_the_provider_gives_none(start_hs, idp, register_user):
    register_user("taken")
    hs = start_hs(providers=[idp.homeserver_config(
        user_mapping={"localpart_template": "{{ user.nickname }}"})])
    browser = requests.Session()
    landing = sso_login(browser, hs, "alice", "alice's password")
    page = landing.response
    assert page.status_code == 200 and "Choose your username" in page.text
    session = _hidden_field(page.text, "session")
    new_user = hs.url("/_homeserver/client/sso/new_user")

    taken = browser.post(new_user, data={"session": session, "username": "taken"},
                         allow_redirects=False)
    assert taken.status_code == 400 and "already taken" in taken.text
    # Another browser (no cookie) cannot use the page's session.
    stranger = requests.post(new_user, data={"session": session, "username": "stolen"},
                             allow_redirects=False, timeout=30)
    assert stranger.status_code == 400 and "expired or was already used" in stranger.text

    chosen = browser.post(new_user, data={"session": session, "username": "Wonderland"},
                          allow_redirects=False)
    assert chosen.status_code == 302, chosen.text
    token = chosen.headers["Location"].split("loginToken=")[1]
    assert token_login(hs, token).json()["user_id"] == "@wonderland:localhost:8008"
    # The page's session is spent.
    again = browser.post(new_user, data={"session": session, "username": "another"},
                         allow_redirects=False)
    assert again.status_code == 400


def test_confirm_localpart_suggests_the_mapped_name(start_hs, idp):
    hs = start_hs(providers=[idp.homeserver_config(user_mapping={"confirm_localpart": True})])
    landing = sso_login(requests.Session(), hs, "alice", "alice's password")
    assert 'value="alice"' in landing.response.text


def test_several_providers_get_a_picker_page(start_hs, idp):
    hs = start_hs(providers=[idp.homeserver_config(),
                             idp.homeserver_config(idp_id="other", idp_name="Other IdP")])
    page = requests.get(hs.url("/_matrix/client/v3/login/sso/redirect"),
                        params={"redirectUrl": CLIENT_URL}, allow_redirects=False, timeout=30)
    assert page.status_code == 200
    assert "/_matrix/client/v3/login/sso/redirect/other?redirectUrl=" in page.text
    assert "Other IdP" in page.text
    unknown = requests.get(hs.url("/_matrix/client/v3/login/sso/redirect/nope"),
                           params={"redirectUrl": CLIENT_URL}, allow_redirects=False, timeout=30)
    assert unknown.status_code == 404 and unknown.json()["errcode"] == "M_NOT_FOUND"


def test_redirect_needs_a_redirect_url(hs):
    response = requests.get(hs.url("/_matrix/client/v3/login/sso/redirect/test-idp"), timeout=30)
    assert response.status_code == 400
    assert response.json()["errcode"] == "M_MISSING_PARAM"


def test_userinfo_claims_when_configured(start_hs, idp):
    hs = start_hs(providers=[idp.homeserver_config(
        user_profile_method="userinfo_endpoint",
        user_mapping={"display_name_template": "{{ user.nickname }}"})])
    idp.users["alice"].userinfo_only["nickname"] = "From userinfo"
    landing = sso_login(requests.Session(), hs, "alice", "alice's password")
    user_id = token_login(hs, landing.login_token).json()["user_id"]
    profile = requests.get(hs.url(f"/_matrix/client/v3/profile/{user_id}"), timeout=30)
    assert profile.json()["displayname"] == "From userinfo"


def _hidden_field(html: str, name: str) -> str:
    marker = f'name="{name}" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]


def _sso_account(hs, idp_username="alice", password="alice's password"):
    landing = sso_login(requests.Session(), hs, idp_username, password)
    return token_login(hs, landing.login_token).json()


def _delete_device(hs, account, auth=None):
    body = {"auth": auth} if auth else {}
    return requests.delete(hs.url(f"/_matrix/client/v3/devices/{account['device_id']}"),
                           json=body, timeout=30,
                           headers={"Authorization": f"Bearer {account['access_token']}"})


def _confirm_in_browser(hs, session, username, password, action="delete a device"):
    browser = requests.Session()
    page = browser.get(hs.url("/_matrix/client/v3/auth/m.login.sso/fallback/web"),
                       params={"session": session}, allow_redirects=False)
    assert page.status_code == 200, page.text
    assert action in page.text
    link = _link_text(page.text, "Continue with")
    form = browser.get(link, allow_redirects=False)
    callback = browser.post(form.url, data={"username": username, "password": password},
                            allow_redirects=False)
    return browser.get(callback.headers["Location"], allow_redirects=False)


def test_sso_accounts_confirm_operations_with_the_provider(hs, idp):
    """User-interactive auth for an account without a password: m.login.sso, completed on the
    stage's fallback page by signing in at the provider again."""
    account = _sso_account(hs)
    challenge = _delete_device(hs, account)
    assert challenge.status_code == 401
    assert challenge.json()["flows"] == [{"stages": ["m.login.sso"]}]
    session = challenge.json()["session"]
    # Until the browser confirmed, the stage is not complete.
    early = _delete_device(hs, account, {"type": "m.login.sso", "session": session})
    assert early.status_code == 401 and early.json()["completed"] == []

    done = _confirm_in_browser(hs, session, "alice", "alice's password")
    assert done.status_code == 200 and "onAuthDone" in done.text
    deleted = _delete_device(hs, account, {"session": session})
    assert deleted.status_code == 200, deleted.text


def test_another_provider_user_cannot_confirm_for_the_account(hs, idp):
    account = _sso_account(hs)
    idp.add_user("mallory", "pw", sub="sub-mallory", preferred_username="mallory")
    _sso_account(hs, "mallory", "pw")
    session = _delete_device(hs, account).json()["session"]
    refused = _confirm_in_browser(hs, session, "mallory", "pw")
    assert refused.status_code == 403 and "another user" in refused.text
    still = _delete_device(hs, account, {"session": session})
    assert still.status_code == 401 and still.json()["completed"] == []


def test_password_accounts_keep_the_password_flow(hs, register_user):
    user = register_user("carol")
    response = requests.delete(hs.url(f"/_matrix/client/v3/devices/{user.device_id}"), json={},
                               headers={"Authorization": f"Bearer {user.access_token}"},
                               timeout=30)
    assert response.json()["flows"] == [{"stages": ["m.login.password"]}]


def _link_text(html: str, label: str) -> str:
    end = html.index(label)
    start = html.rindex('href="', 0, end) + len('href="')
    return html[start:html.index('"', start)].replace("&amp;", "&")


def test_an_unreachable_or_misconfigured_provider_gets_an_error_page(start_hs, idp):
    hs = start_hs(providers=[idp.homeserver_config(idp_id="down", issuer="http://127.0.0.1:1"),
                             idp.homeserver_config(idp_id="wrong", issuer=idp.issuer + "/")])
    for idp_id, message in (("down", "could not be reached"), ("wrong", "misconfigured")):
        page = requests.get(hs.url(f"/_matrix/client/v3/login/sso/redirect/{idp_id}"),
                            params={"redirectUrl": CLIENT_URL}, allow_redirects=False,
                            timeout=30)
        assert page.status_code == 502, page.text
        assert message in page.text and page.headers["Content-Type"].startswith("text/html")


def test_provider_icons_stay_on_the_unauthenticated_media_endpoints(make_app, register_user_for,
                                                                     idp):
    """Clients show IdP icons before they have a token (spec: m.login.sso flow, ``icon``)."""
    uploader = make_app()
    alice = register_user_for(uploader, "alice")
    icon, other = upload(alice, b"icon", "image/png"), upload(alice, b"other", "image/png")
    app = make_app(oidc_providers=[idp.homeserver_config(idp_icon=f"mxc://{icon}")])
    anonymous = app.test_client()
    assert anonymous.get(f"/_matrix/media/v3/download/{icon}").data == b"icon"
    assert anonymous.get(f"/_matrix/media/v3/download/{other}").status_code == 404


def test_claims_beyond_any_user_id_get_the_username_page(start_hs, idp):
    idp.add_user("long", "pw", sub="sub-long", preferred_username="Ü" * 5000)
    hs = start_hs()
    landing = sso_login(requests.Session(), hs, "long", "pw")
    assert landing.response.status_code == 200
    assert "Choose your username" in landing.response.text
    assert 'name="username" value=""' in landing.response.text


def test_usernames_are_mapped_as_the_spec_appendix_says(start_hs, idp):
    """Appendices, "Mapping from other character sets": lower-case; other bytes as =xx."""
    idp.add_user("jose", "pw", sub="sub-jose", preferred_username="_José Smith")
    hs = start_hs()
    landing = sso_login(requests.Session(), hs, "jose", "pw")
    assert token_login(hs, landing.login_token).json()["user_id"] == \
        "@=5fjos=c3=a9=20smith:localhost:8008"


def _name_refused_by_sso(hs, provider_user, refused, message, accepted):
    """Log ``provider_user`` in: the provider's suggestion is not offered (the username page
    comes, empty); typing ``refused`` answers 400 with ``message``; ``accepted`` works."""
    browser = requests.Session()
    landing = sso_login(browser, hs, provider_user, "pw")
    page = landing.response
    assert landing.client_url is None
    assert page.status_code == 200 and "Choose your username" in page.text
    assert 'name="username" value=""' in page.text
    new_user = hs.url("/_homeserver/client/sso/new_user")
    session = _hidden_field(page.text, "session")
    typed = browser.post(new_user, data={"session": session, "username": refused},
                         allow_redirects=False)
    assert typed.status_code == 400 and message in typed.text
    chosen = browser.post(new_user, data={"session": session, "username": accepted},
                          allow_redirects=False)
    assert chosen.status_code == 302, chosen.text


def test_guest_names_are_never_given_through_sso(start_hs, idp):
    """Guest accounts are named guest-...: a provider's username may not take such a name
    (suggested or typed on the username page), as /register refuses it."""
    idp.add_user("sneaky", "pw", sub="sub-sneaky", preferred_username="Guest-abc")
    _name_refused_by_sso(start_hs(), "sneaky", "guest-abc", "reserved for guest accounts",
                         "sneaky")


def test_application_service_namespaces_are_never_given_through_sso(start_hs, idp, tmp_path):
    """A bridge's exclusive namespace is the bridge's: /register refuses it (M_EXCLUSIVE), and
    so does single sign-on, suggested or typed; with allow_existing_users a provider user named
    like a bridged user must not be linked to (take over) that account."""
    path = write_registration(tmp_path, registration(
        None, users=[{"exclusive": True, "regex": "@irc-.*:localhost:8008"}]))
    idp.add_user("ircfan", "pw", sub="sub-ircfan", preferred_username="irc-alice")
    hs = start_hs(providers=[idp.homeserver_config(allow_existing_users=True)],
                  app_service_config_files=[path])
    bridged = requests.post(hs.url("/_matrix/client/v3/register"), headers=as_headers(),
                            json={"type": "m.login.application_service",
                                  "username": "irc-alice"}, timeout=30)
    assert bridged.status_code == 200, bridged.text
    _name_refused_by_sso(hs, "ircfan", "irc-bob", "application service", "ircfan")


def test_client_secret_post_and_explicit_endpoints(start_hs, idp):
    """A provider configured without discovery, authenticating this client in the form body."""
    hs = start_hs(providers=[idp.homeserver_config(
        client_auth_method="client_secret_post", discover=False,
        authorization_endpoint=idp.issuer + "/authorize", token_endpoint=idp.issuer + "/token",
        jwks_uri=idp.issuer + "/jwks", pkce_method="always")])
    idp.register_client(hs.callback_url, auth_method="client_secret_post")
    landing = sso_login(requests.Session(), hs, "alice", "alice's password")
    assert token_login(hs, landing.login_token).json()["user_id"] == "@alice:localhost:8008"


def test_a_deactivated_account_gets_no_new_one(hs, idp):
    account = _sso_account(hs)
    auth = {"Authorization": f"Bearer {account['access_token']}"}
    deactivate = hs.url("/_matrix/client/v3/account/deactivate")
    session = requests.post(deactivate, json={}, headers=auth, timeout=30).json()["session"]
    done = _confirm_in_browser(hs, session, "alice", "alice's password",
                               action="deactivate the account")
    assert done.status_code == 200
    gone = requests.post(deactivate, json={"auth": {"session": session}}, headers=auth,
                         timeout=30)
    assert gone.status_code == 200, gone.text
    again = sso_login(requests.Session(), hs, "alice", "alice's password")
    assert again.client_url is None
    assert again.response.status_code == 403 and "deactivated" in again.response.text
