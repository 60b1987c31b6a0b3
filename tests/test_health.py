"""GET /health, for load balancers: 200 while the database answers, 503 when it does not."""

import socket

import peewee

from homeserver import db


def test_health_answers_ok_with_the_database_up(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "OK"
    assert response.headers["Cache-Control"] == "no-store"


def test_health_answers_503_when_the_database_fails(client, monkeypatch):
    def unreachable(*args, **kwargs):
        raise peewee.OperationalError("connection refused")

    monkeypatch.setattr(db.database.obj, "execute_sql", unreachable)
    response = client.get("/health")
    assert response.status_code == 503
    assert response.get_json()["errcode"] == "IO.HOMESERVER_DATABASE_UNREACHABLE"


def test_health_needs_no_token_and_only_get(client):
    assert client.post("/health").status_code == 405


def test_health_answers_503_when_no_database_server_answers(tmp_path):
    """A PostgreSQL that refuses connections: every request, /health included, answers 503."""
    from homeserver.app import create_app

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = create_app(overrides={"database": f"postgresql://postgres@127.0.0.1:{port}/x",
                                "data_dir": str(tmp_path)}, check_schema=False)
    client = app.test_client()
    response = client.get("/health")
    assert response.status_code == 503
    assert response.get_json()["errcode"] == "IO.HOMESERVER_DATABASE_UNREACHABLE"
    assert client.get("/_matrix/client/v3/account/whoami",
                      headers={"Authorization": "Bearer x"}).status_code == 503
