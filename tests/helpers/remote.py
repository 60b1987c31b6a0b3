"""Calls to a running server over real HTTP (the e2e tests' gunicorn deployments)."""

from __future__ import annotations

import uuid

import requests
from prometheus_client.parser import text_string_to_metric_families


def register(base: str, localpart: str | None = None) -> dict:
    """A new account on the server at ``base`` (open registration); its /register answer."""
    response = requests.post(f"{base}/_matrix/client/v3/register", json={
        "username": localpart or f"u{uuid.uuid4().hex[:10]}",
        "password": "correct horse battery", "auth": {"type": "m.login.dummy"}}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def call(method: str, url: str, token: str, **kwargs) -> dict:
    """An authenticated request that must succeed; its JSON answer."""
    response = requests.request(method, url, headers={"Authorization": f"Bearer {token}"},
                                timeout=60, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def metric_value(base: str, name: str, labels: dict | None = None) -> float:
    """A sample of the server's /metrics scrape (all its workers), 0 when absent."""
    response = requests.get(base + "/metrics", timeout=60)
    assert response.status_code == 200
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == name and (labels is None or sample.labels == labels):
                return sample.value
    return 0.0
