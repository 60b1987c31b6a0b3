"""Synapse's admin API for media, registration tokens and event reports (``/_synapse/admin``),
for server admins only, and the server version (docs/admin-api.md).

    GET    /v1/server_version                          (no authentication, as Synapse)
    GET    /v1/users/{userId}/media                    paged; DELETE deletes that page
    DELETE /v1/media/{serverName}/{mediaId}
    POST   /v1/media/quarantine/{serverName}/{mediaId}, /v1/media/unquarantine/...
    POST   /v1/user/{userId}/media/quarantine
    GET    /v1/registration_tokens[?valid=]            POST .../new, GET|PUT|DELETE .../{token}
    GET    /v1/event_reports                           paged; GET|DELETE .../{reportId}
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from .. import __version__, errors
from ..schemas.synapse_admin import (MAX_PAGE, EventReportArgs, MediaListArgs, NewTokenBody,
                                     TokenListArgs, UpdateTokenBody)
from ..services.accounts import admin_users, registration_tokens, reports
from ..services.media import admin as media_admin
from ..services.media import ids
from .http import config, json_body, load_args, load_body, require_server_admin
from .media import media_store

bp = Blueprint("synapse_admin_server", __name__, url_prefix="/_synapse/admin")


@bp.get("/v1/server_version")
def server_version():
    return jsonify({"server_version": __version__})


# --- media ---------------------------------------------------------------------------------------

def _media_entry(row) -> dict:
    return {"media_id": row.media_id, "media_type": row.content_type, "media_length": row.size,
            "upload_name": row.upload_name, "created_ts": row.created_ts,
            "last_access_ts": row.last_access_ts, "quarantined_by": row.quarantined_by
            if row.quarantined else None, "safe_from_quarantine": False}


def _user_media_page(user_id: str):
    admin_users.existing_user(user_id, config().server_name)
    args = load_args(MediaListArgs)
    return media_admin.user_media_page(user_id, offset=args["offset"],
                                       limit=min(args["limit"], MAX_PAGE),
                                       order_by=args["order_by"], backwards=args["dir"] == "b"
                                       ), args["offset"]


@bp.get("/v1/users/<path:user_id>/media")
def user_media(user_id):
    require_server_admin()
    (rows, total), offset = _user_media_page(user_id)
    out = {"media": [_media_entry(row) for row in rows], "total": total}
    if rows and offset + len(rows) < total:
        out["next_token"] = offset + len(rows)
    return jsonify(out)


@bp.delete("/v1/users/<path:user_id>/media")
def delete_user_media(user_id):
    require_server_admin()
    (rows, _), _ = _user_media_page(user_id)
    media_ids = [row.media_id for row in rows]
    media_admin.delete_media(media_store(), media_ids)
    return jsonify({"deleted_media": media_ids, "total": len(media_ids)})


def _local_media(server_name: str, media_id: str) -> str:
    if server_name != config().server_name:
        raise errors.InvalidParam("Can only delete local media")
    if not ids.is_valid_media_id(media_id):
        raise errors.NotFound("Unknown media")
    return media_id


@bp.delete("/v1/media/<server_name>/<media_id>")
def delete_media(server_name, media_id):
    require_server_admin()
    media_id = _local_media(server_name, media_id)
    if media_admin.delete_media(media_store(), [media_id])["deleted"] == 0:
        raise errors.NotFound("Unknown media")
    return jsonify({"deleted_media": [media_id], "total": 1})


@bp.post("/v1/media/quarantine/<server_name>/<media_id>")
def quarantine(server_name, media_id):
    requester = require_server_admin()
    if not media_admin.set_quarantine(_local_media(server_name, media_id), True,
                                      requester.user_id):
        raise errors.NotFound("Unknown media")
    return jsonify({})


@bp.post("/v1/media/unquarantine/<server_name>/<media_id>")
def unquarantine(server_name, media_id):
    require_server_admin()
    if not media_admin.set_quarantine(_local_media(server_name, media_id), False):
        raise errors.NotFound("Unknown media")
    return jsonify({})


@bp.post("/v1/user/<path:user_id>/media/quarantine")
def quarantine_user_media(user_id):
    requester = require_server_admin()
    admin_users.existing_user(user_id, config().server_name)
    return jsonify({"num_quarantined": media_admin.quarantine_user_media(user_id,
                                                                        requester.user_id)})


# --- registration tokens -------------------------------------------------------------------------

def _token(described: dict) -> dict:
    return {"token": described["token"], "uses_allowed": described["uses_allowed"],
            "pending": described["pending"], "completed": described["completed"],
            "expiry_time": described["expiry_ts"]}


@bp.get("/v1/registration_tokens")
def list_tokens():
    require_server_admin()
    valid = load_args(TokenListArgs)["valid"]
    listed = [t for t in registration_tokens.list_tokens() if valid is None or t["valid"] == valid]
    return jsonify({"registration_tokens": [_token(t) for t in listed]})


@bp.post("/v1/registration_tokens/new")
def new_token():
    require_server_admin()
    body = load_body(NewTokenBody, json_body(allow_empty=True))
    return jsonify(_token(registration_tokens.create(
        body["token"], length=body["length"], uses_allowed=body["uses_allowed"],
        expiry_ts=body["expiry_time"])))


@bp.get("/v1/registration_tokens/<token>")
def get_token(token):
    require_server_admin()
    return jsonify(_token(registration_tokens.get(token)))


@bp.put("/v1/registration_tokens/<token>")
def update_token(token):
    require_server_admin()
    body = load_body(UpdateTokenBody, json_body(allow_empty=True))
    changes = {"expiry_ts" if key == "expiry_time" else key: value for key, value in body.items()}
    return jsonify(_token(registration_tokens.update(token, changes)))


@bp.delete("/v1/registration_tokens/<token>")
def delete_token(token):
    require_server_admin()
    if not registration_tokens.delete(token):
        raise errors.NotFound(f"No such registration token: {token}")
    return jsonify({})


# --- event reports -------------------------------------------------------------------------------

@bp.get("/v1/event_reports")
def event_reports():
    require_server_admin()
    args = load_args(EventReportArgs)
    rows, total = reports.event_reports_page(
        offset=args["offset"], limit=min(args["limit"], MAX_PAGE),
        backwards=args["dir"] == "b", room_id=args["room_id"], user_id=args["user_id"])
    out = {"event_reports": rows, "total": total}
    if rows and args["offset"] + len(rows) < total:
        out["next_token"] = args["offset"] + len(rows)
    return jsonify(out)


def _report_id(report_id: str) -> int:
    if not report_id.isascii() or not report_id.isdigit() or len(report_id) > 18:
        raise errors.InvalidParam("The report ID must be an integer")
    return int(report_id)


@bp.get("/v1/event_reports/<report_id>")
def event_report(report_id):
    require_server_admin()
    return jsonify(reports.event_report(_report_id(report_id)))


@bp.delete("/v1/event_reports/<report_id>")
def delete_event_report(report_id):
    require_server_admin()
    reports.delete_event_report(_report_id(report_id))
    return jsonify({})
