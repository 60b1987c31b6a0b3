"""GET /metrics (Prometheus text format): routed only with metrics.enabled, and its values move
with the requests, events, syncs, rate-limit refusals and push queue they count.

The metrics are process-wide (as they are in a worker), so tests compare before and after."""

import re
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from homeserver.models.push import PushDelivery, Pusher
from homeserver.services.server import metrics
from homeserver.services.sync import service as sync_service
from helpers.api import V3
from helpers.rooms import create_room, send_ok
from helpers.sync import sync


@pytest.fixture
def app(make_app):
    return make_app(metrics={"enabled": True})


def scrape(client) -> dict:
    """{(sample name, frozenset of labels): value} of one GET /metrics."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_is_not_routed_unless_enabled(make_app):
    client = make_app().test_client()
    response = client.get("/metrics")
    assert response.status_code == 404
    assert response.get_json()["errcode"] == "M_UNRECOGNIZED"


def test_metrics_needs_no_token_and_only_get(client):
    assert client.get("/metrics").status_code == 200
    assert client.post("/metrics").status_code == 405


def test_requests_are_counted_by_endpoint_and_status(client):
    before = scrape(client)
    for _ in range(3):
        assert client.get("/_matrix/client/versions").status_code == 200
    assert client.get("/_matrix/client/v3/no/such/path/x123").status_code == 404
    after = scrape(client)
    name = "homeserver_http_requests_total"
    assert value(after, name, endpoint="versions.versions", status="200") == \
        value(before, name, endpoint="versions.versions", status="200") + 3
    assert value(after, name, endpoint="unmatched", status="404") == \
        value(before, name, endpoint="unmatched", status="404") + 1
    # Raw paths never become labels (bounded cardinality).
    assert not any("x123" in str(key) for key in after)


def test_latency_histogram_has_buckets_per_endpoint(client):
    before = scrape(client)
    client.get("/_matrix/client/versions")
    after = scrape(client)
    name = "homeserver_http_request_duration_seconds"
    assert value(after, f"{name}_count", endpoint="versions.versions") == \
        value(before, f"{name}_count", endpoint="versions.versions") + 1
    assert value(after, f"{name}_bucket", endpoint="versions.versions", le="+Inf") == \
        value(after, f"{name}_count", endpoint="versions.versions")
    assert (f"{name}_bucket", frozenset({"endpoint": "versions.versions", "le": "0.1"}.items())) \
        in after


def test_events_persisted_and_sync_sizes(client, alice):
    room = create_room(alice)
    before = scrape(client)
    send_ok(alice, room, "one")
    send_ok(alice, room, "two")
    body = alice.get(f"{V3}/sync").get_data()
    after = scrape(client)
    assert value(after, "homeserver_events_persisted_total") == \
        value(before, "homeserver_events_persisted_total") + 2
    assert value(after, "homeserver_sync_response_bytes_count") == \
        value(before, "homeserver_sync_response_bytes_count") + 1
    assert value(after, "homeserver_sync_response_bytes_sum") == \
        value(before, "homeserver_sync_response_bytes_sum") + len(body)


def test_long_polls_held_while_a_sync_waits(client, alice, monkeypatch):
    create_room(alice)
    since = sync(alice)["next_batch"]
    seen = []
    real_wait = sync_service.notifier.wait_for_position_above

    def waiting(*args, **kwargs):
        if "rooms" not in kwargs:  # a background sender's wait (push, appservices), not the sync's
            return real_wait(*args, **kwargs)
        seen.append(metrics.REGISTRY.get_sample_value("homeserver_sync_long_polls_held"))
        return False  # as if the timeout passed

    monkeypatch.setattr(sync_service.notifier, "wait_for_position_above", waiting)
    sync(alice, since=since, timeout=30000)
    assert seen == [1.0]
    assert value(scrape(client), "homeserver_sync_long_polls_held") == 0.0


def test_rate_limit_refusals_are_counted_by_rule(make_app):
    client = make_app(metrics={"enabled": True}, rate_limits={
        "enabled": True, "login_per_ip": {"per_second": 0.001, "burst": 1}}).test_client()
    before = scrape(client)
    attempt = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "nobody"},
               "password": "wrong"}
    statuses = [client.post(f"{V3}/login", json=attempt).status_code for _ in range(2)]
    assert statuses == [403, 429]
    after = scrape(client)
    assert value(after, "homeserver_rate_limited_total", rule="login_ip") == \
        value(before, "homeserver_rate_limited_total", rule="login_ip") + 1


def test_push_queue_depth_and_oldest_age(client, alice, clock):
    assert value(scrape(client), "homeserver_push_queue_depth") == 0
    assert value(scrape(client), "homeserver_push_queue_oldest_age_seconds") == 0
    pusher = Pusher.create(user_id=alice.user_id, kind="http", app_id="org.example",
                           pushkey="pk", app_display_name="x", device_display_name="y",
                           lang="en", data="{}", created_ts=clock.now)
    for _ in range(2):
        # Due far in the future: no sender takes them while the test looks.
        PushDelivery.create(pusher=pusher, event_id="$e", room_id="!r:x", stream_ordering=1,
                            actions="[]", next_attempt_ts=clock.now + 10**9,
                            created_ts=clock.now)
        clock.advance(30_000)
    samples = scrape(client)
    assert value(samples, "homeserver_push_queue_depth") == 2
    assert value(samples, "homeserver_push_queue_oldest_age_seconds") == 60.0


def test_database_pool_gauges(client):
    samples = scrape(client)
    assert value(samples, "homeserver_db_pool_connections_max") >= 1
    assert ("homeserver_db_pool_connections_in_use", frozenset()) in samples
    assert value(samples, "homeserver_db_pool_acquire_seconds_count") >= 1


def test_metrics_text_names_the_types(client):
    text = client.get("/metrics").get_data(as_text=True)
    assert "# TYPE homeserver_http_requests_total counter" in text
    assert "# TYPE homeserver_sync_long_polls_held gauge" in text


def test_grafana_dashboard_uses_only_served_metrics(client):
    dashboard = (Path(__file__).resolve().parents[2] / "docs" / "grafana-dashboard.json")
    used = set(re.findall(r"homeserver_[a-z_]+", dashboard.read_text(encoding="utf-8")))
    families = {family.name for family in text_string_to_metric_families(
        client.get("/metrics").get_data(as_text=True))}
    for name in used:
        assert re.sub(r"_(total|bucket|count|sum)$", "", name) in families, name
    assert len(used) >= 10
