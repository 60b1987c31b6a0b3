"""Pusher.gateway: the scheme://host:port of the pusher's URL (deliveries are limited per
gateway)."""

import json
from urllib.parse import urlparse

import peewee

from ..db import add_column_if_missing


def _gateway_of(url) -> str:
    # A frozen copy of services.pushers.gateway_of (a migration never changes).
    if not isinstance(url, str):
        return ""
    parsed = urlparse(url)
    try:
        port = parsed.port
    except ValueError:
        port = None
    port = port or (443 if parsed.scheme == "https" else 80)
    return f"{parsed.scheme}://{(parsed.hostname or '').lower()}:{port}"


def up(db):
    add_column_if_missing(db, "pusher", "gateway", peewee.TextField(default=""))
    rows = db.execute_sql("SELECT id, data FROM pusher WHERE gateway = ''").fetchall()
    for pusher_id, data in rows:
        try:
            url = json.loads(data).get("url")
        except (ValueError, AttributeError):
            url = None
        db.execute_sql(f"UPDATE pusher SET gateway = {db.param} WHERE id = {db.param}",
                       (_gateway_of(url), pusher_id))
