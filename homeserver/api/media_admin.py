"""Media administration over HTTP for server administrators (this server's own API, the same
operations as `homeserver media ...`). Every endpoint answers 403 M_FORBIDDEN to non-admins.

    GET    /_homeserver/admin/v1/media/usage[?top=N]
    GET    /_homeserver/admin/v1/users/{userId}/media[?limit=N]
    DELETE /_homeserver/admin/v1/media/{serverName}/{mediaId}
    POST   /_homeserver/admin/v1/media/{serverName}/{mediaId}/quarantine   {"quarantined": true}
    POST   /_homeserver/admin/v1/media/purge   {"older_than_days": D, "not_accessed_for_days": D}
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from .. import clock, errors
from ..identifiers import is_valid_user_id
from ..schemas.media import (AdminListArgs, AdminPurgeBody, AdminQuarantineBody,
                             AdminUsageArgs)
from ..services.media import admin, ids
from .http import config, json_body, load_args, load_body, require_server_admin
from .media import media_store

bp = Blueprint("media_admin", __name__)

PREFIX = "/_homeserver/admin/v1"
DAY_MS = 24 * 3600 * 1000


def _local_media_id(server_name: str, media_id: str) -> str:
    if server_name != config().server_name or not ids.is_valid_media_id(media_id):
        raise errors.NotFound("Unknown media")
    return media_id


@bp.get(f"{PREFIX}/media/usage")
def usage():
    require_server_admin()
    args = load_args(AdminUsageArgs)
    return jsonify(admin.usage(media_store(), top=args["top"]))


@bp.get(f"{PREFIX}/users/<user_id>/media")
def user_media(user_id):
    require_server_admin()
    if not is_valid_user_id(user_id):
        raise errors.InvalidParam("Invalid user ID")
    args = load_args(AdminListArgs)
    return jsonify({"media": admin.list_media(config().server_name, user_id=user_id,
                                              limit=args["limit"])})


@bp.delete(f"{PREFIX}/media/<server_name>/<media_id>")
def delete(server_name, media_id):
    require_server_admin()
    result = admin.delete_media(media_store(), [_local_media_id(server_name, media_id)])
    if result["deleted"] == 0:
        raise errors.NotFound("Unknown media")
    return jsonify(result)


@bp.post(f"{PREFIX}/media/<server_name>/<media_id>/quarantine")
def quarantine(server_name, media_id):
    require_server_admin()
    body = load_body(AdminQuarantineBody, json_body(allow_empty=True))
    if not admin.set_quarantine(_local_media_id(server_name, media_id), body["quarantined"]):
        raise errors.NotFound("Unknown media")
    return jsonify({"quarantined": body["quarantined"]})


@bp.post(f"{PREFIX}/media/purge")
def purge():
    require_server_admin()
    body = load_body(AdminPurgeBody, json_body(allow_empty=True))
    now = clock.now_ms()
    older, idle = body["older_than_days"], body["not_accessed_for_days"]
    return jsonify(admin.purge(
        media_store(),
        uploaded_before_ts=None if older is None else now - int(older * DAY_MS),
        not_accessed_since_ts=None if idle is None else now - int(idle * DAY_MS)))
