"""The standard error response on the generic failure paths (body parsing, size, crashes)."""

import threading

from flask import Blueprint

from homeserver import db
from homeserver.api.http import json_body


def make_echo_app(make_app):
    app = make_app(max_request_size=65536)
    bp = Blueprint("echo_test", __name__)

    @bp.post("/_test/echo")
    def echo():
        return json_body()

    @bp.get("/_test/crash")
    def crash():
        raise RuntimeError("secret internal detail")

    app.register_blueprint(bp)
    return app


def test_not_json_body(make_app):
    client = make_echo_app(make_app).test_client()
    response = client.post("/_test/echo", data=b"{not json")
    assert response.status_code == 400
    assert response.get_json()["errcode"] == "M_NOT_JSON"


def test_json_without_content_type_is_accepted(make_app):
    client = make_echo_app(make_app).test_client()
    response = client.post("/_test/echo", data=b'{"a": 1}')
    assert response.status_code == 200
    assert response.get_json() == {"a": 1}


def test_json_that_is_not_an_object(make_app):
    client = make_echo_app(make_app).test_client()
    response = client.post("/_test/echo", data=b"[1, 2]")
    assert response.status_code == 400
    assert response.get_json()["errcode"] == "M_BAD_JSON"


def test_nan_is_not_json(make_app):
    client = make_echo_app(make_app).test_client()
    response = client.post("/_test/echo", data=b'{"a": NaN}')
    assert response.get_json()["errcode"] == "M_NOT_JSON"


def test_body_over_limit_is_too_large(make_app):
    client = make_echo_app(make_app).test_client()
    response = client.post("/_test/echo", data=b'{"a": "' + b"x" * 70000 + b'"}')
    assert response.status_code == 413
    assert response.get_json()["errcode"] == "M_TOO_LARGE"


def test_unexpected_exception_is_500_unknown_without_details(make_app):
    client = make_echo_app(make_app).test_client()
    response = client.get("/_test/crash")
    assert response.status_code == 500
    body = response.get_json()
    assert body["errcode"] == "M_UNKNOWN"
    assert "secret" not in response.get_data(as_text=True)
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_no_free_database_connection_is_503_busy(make_app):
    """A burst that takes every pooled connection for longer than the pool's wait: the request
    left over is told to retry (503), not a 500 with a traceback."""
    client = make_app(database_pool_size=1).test_client()
    database = db.database.obj
    usual_wait = database._wait_timeout
    database._wait_timeout = 0.2
    taken, release = threading.Event(), threading.Event()

    def hold_the_only_connection():
        database.connect(reuse_if_open=True)
        taken.set()
        release.wait(30)
        database.close()

    holder = threading.Thread(target=hold_the_only_connection)
    holder.start()
    try:
        assert taken.wait(30)
        response = client.get("/_matrix/client/v3/account/whoami",
                              headers={"Authorization": "Bearer whatever"})
    finally:
        release.set()
        holder.join()
        database._wait_timeout = usual_wait
    assert response.status_code == 503
    assert response.get_json()["errcode"] == "IO.HOMESERVER_DATABASE_BUSY"
    # The pool is whole again once the burst is over.
    assert client.get("/_matrix/client/versions").status_code == 200
