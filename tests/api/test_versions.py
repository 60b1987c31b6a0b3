def test_versions_lists_spec_versions(client):
    response = client.get("/_matrix/client/versions")
    assert response.status_code == 200
    body = response.get_json()
    assert "v1.1" in body["versions"]
    assert isinstance(body["unstable_features"], dict)
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_versions_with_bad_token_is_reported(client):
    response = client.get("/_matrix/client/versions", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.get_json()["errcode"] == "M_UNKNOWN_TOKEN"


def test_well_known_points_at_base_url(make_app):
    app = make_app(public_baseurl="https://matrix.example.org/")
    body = app.test_client().get("/.well-known/matrix/client").get_json()
    assert body == {"m.homeserver": {"base_url": "https://matrix.example.org"}}


def test_unknown_path_is_unrecognized(client):
    response = client.get("/_matrix/client/v3/nonexistent")
    assert response.status_code == 404
    assert response.get_json()["errcode"] == "M_UNRECOGNIZED"
    assert response.content_type == "application/json"


def test_wrong_method_is_405_unrecognized(client):
    response = client.delete("/_matrix/client/versions")
    assert response.status_code == 405
    assert response.get_json()["errcode"] == "M_UNRECOGNIZED"


def test_options_answers_cors_for_any_path(client):
    response = client.options("/_matrix/client/v3/anything/at/all")
    assert response.status_code == 200
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]


def test_landing_page(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"localhost:8008" in response.data
