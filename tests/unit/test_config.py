import os

import pytest
import yaml

from homeserver.config import ConfigError, load_config, render_default_config


def write(tmp_path, text):
    path = tmp_path / "homeserver.yaml"
    path.write_text(text)
    return str(path)


def test_defaults_without_a_file(tmp_path):
    config = load_config(path=str(tmp_path / "missing.yaml"), environ={})
    assert config.server_name == "localhost:8008"
    assert config.registration["enabled"] is False
    assert config.rate_limits["enabled"] is True
    assert config.database_url.endswith("homeserver.db")


def test_unknown_key_names_the_key(tmp_path):
    path = write(tmp_path, "server_name: example.org\nfrobnicate: 1\n")
    with pytest.raises(ConfigError) as info:
        load_config(path=path, environ={})
    assert "frobnicate" in str(info.value)
    assert "\n" not in str(info.value)


def test_unknown_nested_key_names_the_path(tmp_path):
    path = write(tmp_path, "registration:\n  enabeld: true\n")
    with pytest.raises(ConfigError) as info:
        load_config(path=path, environ={})
    assert "registration.enabeld" in str(info.value)


def test_bad_value_names_the_key(tmp_path):
    path = write(tmp_path, "rate_limits:\n  enabled: maybe\n")
    with pytest.raises(ConfigError) as info:
        load_config(path=path, environ={})
    assert "rate_limits.enabled" in str(info.value)


def test_bad_server_name_is_refused(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(path=write(tmp_path, "server_name: 'not a name'\n"), environ={})
    assert "server_name" in str(info.value)


def test_environment_overrides_nested_keys(tmp_path):
    path = write(tmp_path, "server_name: example.org\nregistration:\n  enabled: false\n")
    config = load_config(path=path, environ={
        "HOMESERVER_REGISTRATION__ENABLED": "true",
        "HOMESERVER_SERVER_NAME": "matrix.example.org:8448",
        "HOMESERVER_RATE_LIMITS__ENABLED": "false",
    })
    assert config.registration["enabled"] is True
    assert config.server_name == "matrix.example.org:8448"
    assert config.rate_limits["enabled"] is False


def test_unknown_environment_key_is_refused(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(path=str(tmp_path / "none.yaml"), environ={"HOMESERVER_NOPE": "1"})
    assert "nope" in str(info.value)


def test_config_env_naming_a_missing_file_is_refused(tmp_path):
    with pytest.raises(ConfigError):
        load_config(environ={"HOMESERVER_CONFIG": str(tmp_path / "gone.yaml")})


def test_postgres_url_accepted_and_other_urls_refused(tmp_path):
    config = load_config(path=str(tmp_path / "x.yaml"),
                         environ={"HOMESERVER_DATABASE": "postgresql://u@h/db"})
    assert config.database_url == "postgresql://u@h/db"
    with pytest.raises(ConfigError) as info:
        load_config(path=str(tmp_path / "x.yaml"), environ={"HOMESERVER_DATABASE": "mysql://h/db"})
    assert "database" in str(info.value)


def test_generated_config_local_has_open_registration(tmp_path):
    text = render_default_config("localhost:8008")
    config = load_config(path=write(tmp_path, text), environ={})
    assert config.registration["enabled"] is True
    assert config.registration["allow_guests"] is True


def test_generated_config_public_has_registration_off(tmp_path):
    text = render_default_config("matrix.example.org")
    config = load_config(path=write(tmp_path, text), environ={})
    assert config.registration["enabled"] is False
    assert config.registration["allow_guests"] is False


def test_guests_are_off_by_default_and_may_be_turned_on(tmp_path):
    assert load_config(path=str(tmp_path / "none.yaml"), environ={}).registration[
        "allow_guests"] is False
    config = load_config(path=str(tmp_path / "none.yaml"), environ={
        "HOMESERVER_REGISTRATION__ALLOW_GUESTS": "true",
        "HOMESERVER_REGISTRATION__GUEST_IDLE_EXPIRY_MS": "null"})
    assert config.registration["allow_guests"] is True
    assert config.registration["guest_idle_expiry_ms"] is None


def test_email_section():
    assert load_config(path=os.devnull, environ={}).email is None
    env = {"HOMESERVER_EMAIL__SMTP_HOST": "mail.example.org",
           "HOMESERVER_EMAIL__NOTIF_FROM": "Matrix <noreply@example.org>",
           "HOMESERVER_EMAIL__SMTP_PORT": "587"}
    email = load_config(path=os.devnull, environ=env).email
    assert (email["smtp_host"], email["smtp_port"], email["app_name"]) == (
        "mail.example.org", 587, "Matrix")
    for extra, key in (({"HOMESERVER_EMAIL__NOTIF_FROM": "nobody"}, "email.notif_from"),
                       ({"HOMESERVER_EMAIL__SMTP_USER": "u"}, "email.smtp_user"),
                       ({"HOMESERVER_EMAIL__ENABLE_TLS": "true",
                         "HOMESERVER_EMAIL__REQUIRE_TRANSPORT_SECURITY": "true"},
                        "email.require_transport_security")):
        with pytest.raises(ConfigError, match=key):
            load_config(path=os.devnull, environ={**env, **extra})
    with pytest.raises(ConfigError, match="registration.require_email"):
        load_config(path=os.devnull, environ={"HOMESERVER_REGISTRATION__REQUIRE_EMAIL": "true"})
    # The generated file mentions it, commented out.
    assert load_config(path=os.devnull, environ={}, overrides=yaml.safe_load(
        render_default_config("localhost:8008"))).email is None


def test_identity_servers_section(tmp_path):
    config = load_config(path=os.devnull, environ={})
    assert config.identity_servers["trusted"] == []
    assert config.identity_servers["allow_untrusted"] is True
    assert config.identity_servers["trusted_verify_tls"] is True
    trusted = load_config(path=os.devnull, environ={
        "HOMESERVER_IDENTITY_SERVERS__TRUSTED": "[sydent.internal:8090, 10.0.0.5]"})
    assert trusted.identity_servers["trusted"] == ["sydent.internal:8090", "10.0.0.5"]
    with pytest.raises(ConfigError) as info:
        load_config(path=write(tmp_path, "identity_servers:\n  trusted: ['https://x/']\n"),
                    environ={})
    assert "identity_servers.trusted" in str(info.value)
    with pytest.raises(ConfigError):
        load_config(path=os.devnull, environ={
            "HOMESERVER_IDENTITY_SERVERS__TRUSTED_SCHEME": "ftp"})
