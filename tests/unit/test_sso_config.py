"""The SSO configuration (``oidc_providers``, ``sso``): startup refuses what cannot work."""

import json
import subprocess
import sys

import pytest

from homeserver.config import ConfigError, load_config

PROVIDER = {"idp_id": "kc", "issuer": "https://idp.example.org/realms/x", "client_id": "matrix",
            "client_secret": "s"}


def _load(**overrides):
    return load_config(path="/nonexistent/homeserver.yaml", environ={}, overrides=overrides)


def test_a_provider_gets_synapse_like_defaults():
    provider = _load(oidc_providers=[PROVIDER]).oidc_providers[0]
    assert provider["scopes"] == ["openid"]
    assert provider["discover"] is True and provider["pkce_method"] == "auto"
    assert provider["allow_existing_users"] is False
    assert provider["user_mapping"]["localpart_template"] == "{{ user.preferred_username }}"


@pytest.mark.parametrize("change, key", [
    ({"issuer": "http://idp.example.org/"}, "oidc_providers.0.issuer"),
    ({"issuer": "http://10.0.0.5/"}, "oidc_providers.0.issuer"),
    ({"scopes": ["profile"]}, "oidc_providers.0.scopes"),
    ({"idp_id": "has space"}, "oidc_providers.0.idp_id"),
    ({"client_secret": None}, "oidc_providers.0.client_secret"),
    ({"discover": False}, "oidc_providers.0.authorization_endpoint"),
    ({"idp_icon": "https://example.org/icon.png"}, "oidc_providers.0.idp_icon"),
    ({"user_mapping": {"localpart_template": "{{ user.name "}},
     "oidc_providers.0.user_mapping.localpart_template"),
    ({"frobnicate": 1}, "oidc_providers.0.frobnicate"),
])
def test_unusable_providers_stop_startup(change, key):
    with pytest.raises(ConfigError) as info:
        _load(oidc_providers=[{**PROVIDER, **change}])
    assert key in str(info.value)


def test_loopback_http_issuers_and_public_clients_are_accepted():
    provider = _load(oidc_providers=[{**PROVIDER, "issuer": "http://127.0.0.1:9000/",
                                      "client_auth_method": "none", "client_secret": None}])
    assert provider.oidc_providers[0]["client_auth_method"] == "none"


def test_provider_ids_are_unique():
    with pytest.raises(ConfigError) as info:
        _load(oidc_providers=[PROVIDER, PROVIDER])
    assert "used twice" in str(info.value)


def test_whitelist_prefixes_must_end_their_host():
    with pytest.raises(ConfigError) as info:
        _load(sso={"client_whitelist": ["https://app.element.io"]})
    assert "sso.client_whitelist" in str(info.value)
    assert _load(sso={"client_whitelist": ["https://app.element.io/", "im.app:/"]})


def test_providers_from_the_environment():
    config = load_config(path="/nonexistent/homeserver.yaml", environ={
        "HOMESERVER_OIDC_PROVIDERS": "[{idp_id: kc, issuer: 'https://idp.example.org/', "
                                     "client_id: matrix, client_secret: s}]"})
    assert config.oidc_providers[0]["issuer"] == "https://idp.example.org/"


_BUILD_APP = """
import json, os, sys
from homeserver.app import create_app
from homeserver.config import load_config
create_app(load_config(path=os.devnull, environ={}, overrides=json.loads(sys.argv[1])),
           check_schema=False)
print(json.dumps(sorted(name for name in ("jwt", "cryptography") if name in sys.modules)))
"""


@pytest.mark.parametrize("providers, imported", [([], []), ([PROVIDER], ["cryptography", "jwt"])])
def test_the_token_verifier_is_loaded_at_start_only_where_providers_are_configured(
        tmp_path, providers, imported):
    """PyJWT and cryptography (~10 MiB) are loaded by the app gunicorn's master builds (the
    workers share them) only where SSO is configured; elsewhere no process loads them."""
    overrides = {"data_dir": str(tmp_path), "database": f"sqlite:///{tmp_path}/db.sqlite",
                 "public_baseurl": "https://hs.example.org/", "oidc_providers": providers}
    built = subprocess.run([sys.executable, "-c", _BUILD_APP, json.dumps(overrides)],
                           capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stderr
    assert json.loads(built.stdout.strip().splitlines()[-1]) == imported
