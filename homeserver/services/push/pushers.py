"""Pushers (POST /pushers/set, GET /pushers): where a user's push notifications are sent.

``http`` pushers, and ``email`` pushers (app_id ``m.email``, the pushkey an address of the
account) when notification mails are on (``email.enable_notifs``: email_notifs.py sends them).
The URL of an http pusher is checked for shape here; where it may lead (the address policy, no redirects) is checked at each delivery. A
pusher is identified by (app_id, pushkey, user); without ``append`` the same (app_id, pushkey)
of other users is removed, as the spec asks.
"""

from __future__ import annotations

import json
from urllib.parse import urlparse

from ... import clock, errors
from ...db import write_transaction
from ...models.push import Pusher
from ..userdata import threepids

NOTIFY_PATH = "/_matrix/push/v1/notify"
MAX_APP_ID_LENGTH = 64
MAX_PUSHKEY_BYTES = 512
REQUIRED_FOR_HTTP = ("app_display_name", "device_display_name", "lang", "data")
EMAIL_APP_ID = "m.email"


def list_pushers(user_id: str) -> list[dict]:
    out = []
    for row in Pusher.select().where(Pusher.user_id == user_id).order_by(Pusher.id):
        pusher = {"pushkey": row.pushkey, "kind": row.kind, "app_id": row.app_id,
                  "app_display_name": row.app_display_name,
                  "device_display_name": row.device_display_name, "lang": row.lang,
                  "data": json.loads(row.data)}
        if row.profile_tag is not None:
            pusher["profile_tag"] = row.profile_tag
        out.append(pusher)
    return out


def gateway_of(url: str) -> str:
    """The gateway a pusher URL names, ``scheme://host:port`` (deliveries are limited per
    gateway, services/push/sender.py)."""
    parsed = urlparse(url)
    try:
        port = parsed.port
    except ValueError:
        port = None
    port = port or (443 if parsed.scheme == "https" else 80)
    return f"{parsed.scheme}://{(parsed.hostname or '').lower()}:{port}"


def _check_url(data: dict, allow_http: bool) -> None:
    url = data.get("url")
    if not isinstance(url, str):
        raise errors.MissingParam("data.url is required for http pushers")
    parsed = urlparse(url)
    schemes = {"https", "http"} if allow_http else {"https"}
    if parsed.scheme not in schemes or not parsed.hostname:
        raise errors.InvalidParam("data.url must be an https URL" if not allow_http
                                  else "data.url must be an http(s) URL")
    try:
        parsed.port
    except ValueError:
        raise errors.InvalidParam("data.url has a bad port") from None
    if parsed.path != NOTIFY_PATH:
        raise errors.InvalidParam(f"data.url must have the path {NOTIFY_PATH}")
    fmt = data.get("format")
    if fmt is not None and not isinstance(fmt, str):
        raise errors.InvalidParam("data.format must be a string")


def set_pusher(user_id: str, device_id: str | None, body: dict, *,
               allow_http: bool = False, allow_email: bool = False) -> None:
    """POST /pushers/set (``body`` already has the right JSON types); ``allow_email``: email
    pushers are served (``email.enable_notifs``)."""
    app_id, pushkey, kind = body["app_id"], body["pushkey"], body["kind"]
    if len(app_id) > MAX_APP_ID_LENGTH:
        raise errors.InvalidParam(f"app_id may be at most {MAX_APP_ID_LENGTH} characters")
    if len(pushkey.encode("utf-8")) > MAX_PUSHKEY_BYTES:
        raise errors.InvalidParam(f"pushkey may be at most {MAX_PUSHKEY_BYTES} bytes")
    if kind is None:
        with write_transaction():
            Pusher.delete().where((Pusher.user_id == user_id) & (Pusher.app_id == app_id)
                                  & (Pusher.pushkey == pushkey)).execute()
        return
    missing = [name for name in REQUIRED_FOR_HTTP if name not in body]
    if missing:
        raise errors.MissingParam(f"Missing parameters: {', '.join(missing)}")
    if kind == "email" and allow_email:
        pushkey = _check_email(user_id, app_id, pushkey)
    elif kind != "http":
        raise errors.InvalidParam(f"Unsupported pusher kind {kind!r}: only http pushers are "
                                  "supported" + (" (and email)" if allow_email else ""))
    data = body["data"]
    if not isinstance(data, dict):
        raise errors.BadJson("data must be an object")
    if kind == "http":
        _check_url(data, allow_http)
    values = {"kind": kind, "device_id": device_id,
              "app_display_name": body["app_display_name"],
              "device_display_name": body["device_display_name"],
              "profile_tag": body.get("profile_tag"), "lang": body["lang"],
              "data": json.dumps(data, ensure_ascii=False),
              "gateway": gateway_of(data["url"]) if kind == "http" else ""}
    with write_transaction():
        if not body.get("append", False):
            Pusher.delete().where((Pusher.app_id == app_id) & (Pusher.pushkey == pushkey)
                                  & (Pusher.user_id != user_id)).execute()
        updated = Pusher.update(**values).where(
            (Pusher.user_id == user_id) & (Pusher.app_id == app_id)
            & (Pusher.pushkey == pushkey)).execute()
        if not updated:
            Pusher.insert(user_id=user_id, app_id=app_id, pushkey=pushkey,
                          created_ts=clock.now_ms(), **values).execute()


def _check_email(user_id: str, app_id: str, pushkey: str) -> str:
    """An email pusher mails one of the account's own addresses (as Synapse)."""
    if app_id != EMAIL_APP_ID:
        raise errors.InvalidParam(f"An email pusher's app_id must be {EMAIL_APP_ID}")
    address = pushkey.strip().lower()
    if threepids.owner(threepids.EMAIL, address) != user_id:
        raise errors.InvalidParam("An email pusher's pushkey must be an email address of "
                                  "your account (GET /account/3pid)")
    return address


def add_email_pusher(user_id: str, address: str) -> None:
    """The email pusher a new account with an address gets (``email.notif_for_new_users``);
    call in a write transaction."""
    Pusher.insert(user_id=user_id, device_id=None, kind="email", app_id=EMAIL_APP_ID,
                  pushkey=address, app_display_name="Email Notifications",
                  device_display_name=address, profile_tag=None, lang="en", data="{}",
                  gateway="", created_ts=clock.now_ms()).on_conflict_ignore().execute()


def remove_for_device(user_id: str, device_id: str) -> None:
    """Remove the pushers a device set up (call when the device logs out or is deleted)."""
    with write_transaction():
        Pusher.delete().where((Pusher.user_id == user_id)
                              & (Pusher.device_id == device_id)).execute()


def remove_rejected(user_id: str, app_id: str, pushkeys: list[str]) -> None:
    """The user's gateway said these pushkeys are no longer valid: drop those pushers."""
    if not pushkeys:
        return
    with write_transaction():
        Pusher.delete().where((Pusher.user_id == user_id) & (Pusher.app_id == app_id)
                              & (Pusher.pushkey.in_(pushkeys))).execute()
