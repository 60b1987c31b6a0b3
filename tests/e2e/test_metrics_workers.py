"""GET /metrics under real gunicorn with two workers: every worker's counts add up in a scrape
(prometheus_client's multiprocess mode, set up by gunicorn.conf.py in the master)."""

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from prometheus_client.multiprocess import MultiProcessCollector

from helpers.remote import metric_value

REQUESTS = 40
MAX_ROUNDS = 25


def versions_count(base_url: str) -> float:
    return metric_value(base_url, "homeserver_http_requests_total",
                        {"endpoint": "versions.versions", "status": "200"})


def test_counts_of_both_workers_add_up(start_gunicorn):
    server = start_gunicorn(metrics={"enabled": True}, workers=2)
    before = versions_count(server.base_url)
    directory = Path(server.config["data_dir"]) / "prometheus"

    def get(_):
        # A new connection each time, several at once, so that both workers take some.
        return requests.get(server.base_url + "/_matrix/client/versions",
                            headers={"Connection": "close"}, timeout=30).status_code

    # Which worker accepts a connection is the kernel's choice: send rounds of requests until
    # each worker's own file counts some (a busy machine may give one worker a whole round).
    sent = 0
    for _ in range(MAX_ROUNDS):
        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(get, range(REQUESTS))) == {200}
        sent += REQUESTS
        per_worker = [own_versions_count(path) for path in directory.glob("counter_*.db")]
        if len([count for count in per_worker if count > 0]) == 2:
            break
    assert len([count for count in per_worker if count > 0]) == 2, per_worker
    # Every request is counted whichever worker answered it and whichever answers the scrape.
    assert versions_count(server.base_url) == before + sent
    assert versions_count(server.base_url) == before + sent


def own_versions_count(path: Path) -> float:
    for metric in MultiProcessCollector.merge([str(path)]):
        for sample in metric.samples:
            if (sample.name == "homeserver_http_requests_total"
                    and sample.labels == {"endpoint": "versions.versions", "status": "200"}):
                return sample.value
    return 0.0


def test_metrics_not_served_when_disabled(gunicorn_homeserver):
    response = requests.get(gunicorn_homeserver.base_url + "/metrics", timeout=30)
    assert response.status_code == 404
    assert response.json()["errcode"] == "M_UNRECOGNIZED"


def test_json_access_lines_under_gunicorn_without_secrets(start_gunicorn):
    server = start_gunicorn(log_format="json", log_level="INFO", workers=1)
    secret = "syt_never_in_the_log_0123456789"
    response = requests.get(server.base_url + "/_matrix/client/v3/account/whoami",
                            params={"access_token": secret}, timeout=30)
    assert response.status_code == 401
    request_id = response.headers["X-Request-Id"]
    server.stop()
    log = server.log_tail(1_000_000)
    assert secret not in log
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    [line] = [line for line in lines if line.get("request_id") == request_id]
    assert line["logger"] == "homeserver.access" and line["status"] == 401
    assert line["path"] == "/_matrix/client/v3/account/whoami"
    assert line["endpoint"] == "login.whoami" and line["user"] is None
