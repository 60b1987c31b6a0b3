"""Start this homeserver for SyTest: ``python tests/sytest/launch.py`` (run by `make sytest`).

SyTest's runner (../shared/sytest/run.sh, plugin ``-I Command``) runs this in the foreground with
SYTEST_HS_* variables set. This maps them onto the server's configuration (a YAML file in the data
directory, named by HOMESERVER_CONFIG), runs the migrations, and starts gunicorn with the
project's gunicorn.conf.py, bound where SyTest wants it: the server as it runs in production,
configured the way SyTest expects a test server (open registration, no rate limits, its SMTP
server for mail, http push gateways and URL previews of loopback addresses allowed, its identity
server mock trusted, SyTest's CA trusted for HTTPS).

SYTEST_DATABASE=postgresql runs on a fresh PostgreSQL database (created on SYTEST_POSTGRES_URL,
default postgresql://postgres@127.0.0.1:5432/postgres) that is dropped when the server stops;
anything else (the default) is SQLite in the data directory.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid

import psycopg2
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)

from homeserver import db  # noqa: E402
from homeserver.config import load_config  # noqa: E402
from homeserver.services.sso.settings import CALLBACK_PATH as SSO_CALLBACK_PATH  # noqa: E402

POSTGRES_ADMIN_URL = os.environ.get("SYTEST_POSTGRES_URL",
                                    "postgresql://postgres@127.0.0.1:5432/postgres")
# Where system CAs usually live (Debian, then Fedora); SyTest's CA is added to a copy.
SYSTEM_CA_FILES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")
# SyTest sends SIGKILL 10 s after SIGTERM: stop well before that.
GRACEFUL_TIMEOUT_S = 3


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        sys.exit(f"launch.py: {name} is not set (this is started by SyTest's run.sh)")
    return value


def _sytest_info() -> dict:
    """SYTEST_HS_CONFIG_JSON: what SyTest offers the server (its CA, its SMTP server...)."""
    path = os.environ.get("SYTEST_HS_CONFIG_JSON")
    if not path:
        return {}
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def email_config(info: dict) -> dict | None:
    """SyTest's SMTP server (plain, on loopback) for the email validation tests."""
    smtp = info.get("smtp")
    if not smtp:
        return None
    return {"smtp_host": smtp["host"], "smtp_port": int(smtp["port"]),
            "notif_from": "SyTest Homeserver <sytest@localhost>", "app_name": "SyTest"}


def server_config(data_dir: str, database: str | None, oidc_providers: list) -> dict:
    """The configuration SyTest expects of a permissive test server."""
    return {
        "oidc_providers": oidc_providers,
        "server_name": _env("SYTEST_HS_SERVER_NAME"),
        "public_baseurl": _env("SYTEST_HS_PUBLIC_BASEURL"),
        "data_dir": data_dir,
        "database": database,
        "registration": {"enabled": True, "allow_guests": True},
        "rate_limits": {"enabled": False},
        # SyTest's push gateway and the pages it previews listen on plain http on loopback.
        "push": {"allow_http_gateways": True,
                 "ip_range_allowlist": ["127.0.0.0/8", "::1/128"]},
        "media": {
            "url_preview": {"enabled": True,
                            "ip_range_allowlist": ["127.0.0.0/8", "::1/128"]},
        },
        "email": email_config(_sytest_info()),
        # SyTest's identity server mock: https on loopback (id_server "127.0.0.1:<port>"),
        # with a certificate made out to "localhost", so not one a client could check.
        "identity_servers": {"trusted": ["127.0.0.1", "localhost"],
                             "trusted_verify_tls": False},
        "app_service_config_files": app_service_config_files(),
        # SyTest's mock services answer a transaction only while a test listens for one and
        # close the others unanswered; a test then waits 10 s for its event, so the sender must
        # retry within that (production keeps minutes of backoff and a 60 s timeout).
        "app_service_max_backoff_ms": 2000,
        "app_service_timeout_s": 3,
    }


def app_service_config_files() -> list[str]:
    """SyTest's application service registrations: SYTEST_HS_APPSERVICE_CONFIGS (colon-
    separated paths), else ``app_service_config_files`` of SYTEST_HS_CONFIG_JSON."""
    listed = os.environ.get("SYTEST_HS_APPSERVICE_CONFIGS")
    if listed:
        return [path for path in listed.split(":") if path]
    return list(_sytest_info().get("app_service_config_files") or [])


def start_identity_provider() -> list[dict]:
    """The test OpenID Connect provider (tests/helpers/oidc_provider.py) on a free loopback port, in
    SyTest's process group (stopped with the server), as the server's one SSO provider: SyTest
    checks that GET /login lists m.login.sso, and then SSO works as it would for a client.
    Without Authlib (the test extra), no provider."""
    try:
        import authlib  # noqa: F401
    except ImportError:
        print("launch.py: Authlib missing, no SSO provider", flush=True)
        return []
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    issuer = f"http://127.0.0.1:{port}"
    callback = _env("SYTEST_HS_PUBLIC_BASEURL").rstrip("/") + SSO_CALLBACK_PATH
    # A module of the tests' helpers package (tests/ on the path), not a script.
    subprocess.Popen([sys.executable, "-m", "helpers.oidc_provider",
                      "--port", str(port), "--redirect-uri", callback],
                     env={**os.environ, "PYTHONPATH": os.path.join(REPO, "tests")})
    give_up = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(issuer + "/.well-known/openid-configuration", timeout=2):
                break
        except OSError:
            if time.monotonic() > give_up:
                sys.exit("launch.py: the test identity provider did not start")
            time.sleep(0.1)
    return [{"idp_id": "sytest", "idp_name": "SyTest IdP", "issuer": issuer,
             "client_id": "homeserver", "client_secret": "a client secret"}]


def ca_bundle(data_dir: str) -> str | None:
    """A CA file with the system CAs plus SyTest's own (its mock servers' certificates)."""
    sytest_ca = _sytest_info().get("ca_cert")
    if not sytest_ca or not os.path.exists(sytest_ca):
        print("launch.py: SyTest's CA not found; HTTPS to its mock servers will fail", flush=True)
        return None
    parts = []
    for path in SYSTEM_CA_FILES:
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                parts.append(handle.read())
            break
    with open(sytest_ca, encoding="utf-8") as handle:
        parts.append(handle.read())
    bundle = os.path.join(data_dir, "ca-bundle.pem")
    with open(bundle, "w", encoding="utf-8") as handle:
        handle.write("\n".join(parts))
    return bundle


def _admin_connection():
    conn = psycopg2.connect(POSTGRES_ADMIN_URL, connect_timeout=5)
    conn.autocommit = True
    return conn


def create_postgres_database() -> tuple[str, str]:
    name = f"sytest_{uuid.uuid4().hex[:12]}"
    conn = _admin_connection()
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    head, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    return name, f"{head}/{name}"


def drop_postgres_database(name: str) -> None:
    conn = _admin_connection()
    with conn.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    (name,))
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
    conn.close()


def migrate() -> None:
    config = load_config()
    database = db.init_database(config.database_url, 2)
    applied = db.migrate()
    print(f"launch.py: applied {len(applied)} migration(s)", flush=True)
    database.close_all()


def gunicorn_command() -> list[str]:
    bind = f"{_env('SYTEST_HS_BIND_HOST')}:{_env('SYTEST_HS_PORT')}"
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    return [gunicorn, "--config", os.path.join(REPO, "gunicorn.conf.py"), "--chdir", REPO,
            "--bind", bind, "--graceful-timeout", str(GRACEFUL_TIMEOUT_S)]


def main() -> int:
    data_dir = _env("SYTEST_HS_DATA_DIR")
    postgres = os.environ.get("SYTEST_DATABASE", "sqlite").lower() in ("postgresql", "postgres")
    db_name = None
    database = None
    if postgres:
        db_name, database = create_postgres_database()
        print(f"launch.py: PostgreSQL database {db_name}", flush=True)
    config_path = os.path.join(data_dir, "homeserver.yaml")
    with open(config_path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(server_config(data_dir, database, start_identity_provider()), handle,
                       sort_keys=False)
    os.environ["HOMESERVER_CONFIG"] = config_path
    bundle = ca_bundle(data_dir)
    if bundle:
        # Outgoing HTTPS (push gateways, URL previews: services/outbound_http.py) uses
        # ssl.create_default_context(), which reads SSL_CERT_FILE through OpenSSL's defaults.
        os.environ["SSL_CERT_FILE"] = bundle
    try:
        migrate()
        command = gunicorn_command()
        if not postgres:
            os.execv(command[0], command)
        child = subprocess.Popen(command)

        def stop(signum, frame):
            # The whole process group gets SIGTERM; make sure gunicorn goes quickly.
            if child.poll() is None:
                child.send_signal(signal.SIGINT)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        return child.wait()
    finally:
        if db_name:
            drop_postgres_database(db_name)
            print(f"launch.py: dropped {db_name}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
