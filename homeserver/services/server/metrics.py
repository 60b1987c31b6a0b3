"""Prometheus metrics of this process (and, under gunicorn, of all its workers).

The metric objects live here so that any service can count without knowing about HTTP; the
request hooks and ``GET /metrics`` are in ``api/metrics.py``. Labels are bounded: endpoints are
Flask endpoint names (never raw paths), statuses are the ones the app produces, rate-limit rules
are the key kinds passed to ``ratelimit``.

Several processes: with ``PROMETHEUS_MULTIPROC_DIR`` set before ``prometheus_client`` is first
imported (gunicorn.conf.py does it in the master when ``metrics.enabled``), every process writes
its values to files there and a scrape of any worker adds them up (gauges: ``livesum`` over live
processes). Without it (tests, ``homeserver run``) values are this process's memory.
"""

from __future__ import annotations

import os
import time

import peewee
from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram,
                               disable_created_metrics, generate_latest)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from ... import db
from ...models.email import OutgoingMail
from ...models.push import PushDelivery

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# No *_created series: they double the output and no dashboard here uses them.
disable_created_metrics()

REGISTRY = CollectorRegistry()

REQUESTS = Counter(
    "homeserver_http_requests", "HTTP requests answered, by Flask endpoint and status",
    ["endpoint", "status"], registry=REGISTRY)
REQUEST_DURATION = Histogram(
    "homeserver_http_request_duration_seconds",
    "Time from the start of a request to its response, by Flask endpoint",
    ["endpoint"], registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120))
LONG_POLLS = Gauge(
    "homeserver_sync_long_polls_held", "/sync requests now waiting for something to send",
    registry=REGISTRY, multiprocess_mode="livesum")
SYNC_RESPONSE_BYTES = Histogram(
    "homeserver_sync_response_bytes", "Size of /sync response bodies",
    registry=REGISTRY,
    buckets=(256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216))
EVENTS_PERSISTED = Counter(
    "homeserver_events_persisted", "Room events stored by the event writer "
    "(counted when stored; a transaction that then rolls back is still counted)",
    registry=REGISTRY)
RATE_LIMITED = Counter(
    "homeserver_rate_limited", "Requests refused by a rate limit, by rule (key kind)",
    ["rule"], registry=REGISTRY)
MAILS = Counter(
    "homeserver_mails", "Attempts of the mail outbox by outcome: sent, retry (a failure to "
    "try again), refused (5xx, dropped), expired (dropped after email.give_up_after_ms)",
    ["outcome"], registry=REGISTRY)
DB_POOL_IN_USE = Gauge(
    "homeserver_db_pool_connections_in_use",
    "Database connections checked out of the pools (at each request's start and end)",
    registry=REGISTRY, multiprocess_mode="livesum")
DB_POOL_MAX = Gauge(
    "homeserver_db_pool_connections_max", "Database connections the pools may open",
    registry=REGISTRY, multiprocess_mode="livesum")
DB_POOL_ACQUIRE = Histogram(
    "homeserver_db_pool_acquire_seconds",
    "Time a request took to get its database connection (waits when the pool is exhausted)",
    registry=REGISTRY,
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30))

# Counting the push queue stops here, so a scrape stays cheap however long the queue grows.
QUEUE_COUNT_CAP = 100_000


_request_children: dict[tuple[str, int], tuple] = {}


def request_done(endpoint: str, status: int, seconds: float | None) -> None:
    """Count one answered request (labelled children are cached: ``labels()`` is slow)."""
    children = _request_children.get((endpoint, status))
    if children is None:
        children = (REQUESTS.labels(endpoint=endpoint, status=str(status)),
                    REQUEST_DURATION.labels(endpoint=endpoint))
        _request_children[(endpoint, status)] = children
    children[0].inc()
    if seconds is not None:
        children[1].observe(seconds)


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def rate_limited(rule: str) -> None:
    RATE_LIMITED.labels(rule=rule).inc()


def record_pool_size(database: peewee.Database) -> None:
    DB_POOL_MAX.set(getattr(database, "_max_connections", 0) or 0)


def record_pool_in_use(database: peewee.Database) -> None:
    in_use = getattr(database, "_in_use", None)
    if in_use is not None:
        DB_POOL_IN_USE.set(len(in_use))


def connect_timed(database: peewee.Database) -> None:
    """Take this thread's connection from the pool, recording how long that took."""
    started = time.perf_counter()
    database.connect(reuse_if_open=True)
    DB_POOL_ACQUIRE.observe(time.perf_counter() - started)
    record_pool_in_use(database)


def mail_handled(outcome: str) -> None:
    """One attempt of the mail outbox ended: sent, retry, refused (5xx) or expired."""
    MAILS.labels(outcome).inc()


def _queue(model) -> tuple[int, float]:
    """(rows of a work queue, capped at QUEUE_COUNT_CAP; age in seconds of the oldest)."""
    depth = model.select(model.id).limit(QUEUE_COUNT_CAP).count()
    # Rows are numbered in creation order, so the lowest id is (about) the oldest: the primary
    # key's index answers without a scan.
    oldest = model.select(model.created_ts).order_by(model.id).limit(1).scalar()
    age = max(0.0, (db.now_ms() - oldest) / 1000) if oldest is not None else 0.0
    return depth, age


def push_queue() -> tuple[int, float]:
    """(queued push deliveries, capped at QUEUE_COUNT_CAP; age in seconds of the oldest)."""
    return _queue(PushDelivery)


class QueueCollector:
    """A work queue's depth and oldest age, read at scrape time from the database (shared by
    every process: not added up)."""

    def __init__(self, model, name: str, what: str):
        self._model, self._name, self._what = model, name, what

    def describe(self):
        return self._families(0, 0.0)

    def collect(self):
        return self._families(*_queue(self._model))

    def _families(self, depth: int, age: float):
        yield GaugeMetricFamily(
            f"homeserver_{self._name}_queue_depth",
            f"{self._what} waiting (counted up to {QUEUE_COUNT_CAP})", value=depth)
        yield GaugeMetricFamily(
            f"homeserver_{self._name}_queue_oldest_age_seconds",
            f"Age of the oldest of the {self._what.lower()} still waiting (0 when none)",
            value=age)


_DATABASE_REGISTRY = CollectorRegistry()
_DATABASE_REGISTRY.register(QueueCollector(PushDelivery, "push",
                                           "Push notifications for their gateway"))
_DATABASE_REGISTRY.register(QueueCollector(OutgoingMail, "mail", "Mails for the SMTP server"))


def render() -> tuple[bytes, str]:
    """The Prometheus text exposition of every metric: (body, content type)."""
    directory = multiprocess_dir()
    if directory:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=directory)
    else:
        registry = REGISTRY
    return generate_latest(registry) + generate_latest(_DATABASE_REGISTRY), CONTENT_TYPE_LATEST

