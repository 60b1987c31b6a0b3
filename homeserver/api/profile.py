"""Profiles: GET /profile/{userId}, GET/PUT/DELETE /profile/{userId}/{keyName}."""

from flask import Blueprint, jsonify
from werkzeug.routing import BaseConverter

from ..services.appservice import queries
from ..services.users import profile
from .http import CLIENT_PREFIX, config, json_body, require_auth

bp = Blueprint("profile", __name__)


class UserIdConverter(BaseConverter):
    """A user ID in a path. Historical localparts may contain '/', which arrives decoded from
    %2F, so the segment runs up to the first '/' after the ':' that starts the server name."""

    regex = r"[^/:]+(?:/[^/:]*)*(?::[^/]*)?"
    part_isolating = False


class ProfileKeyConverter(BaseConverter):
    """A profile key never holds ':', so '@a/b:server' cannot be read as user '@a', key 'b:server'."""

    regex = r"[^/:]+"


@bp.record_once
def _register_converters(state):
    # Must run before the routes below are added to the map (record_once keeps that order).
    state.app.url_map.converters.setdefault("user_id", UserIdConverter)
    state.app.url_map.converters.setdefault("profile_key", ProfileKeyConverter)


PROFILE = f"{CLIENT_PREFIX}/v3/profile/<user_id:user_id>"


@bp.get(PROFILE)
def get_profile(user_id):
    queries.ensure_user(config().app_services, user_id, config().server_name)
    return jsonify(profile.get_profile(user_id))


@bp.get(f"{PROFILE}/<profile_key:key_name>")
def get_profile_field(user_id, key_name):
    queries.ensure_user(config().app_services, user_id, config().server_name)
    return jsonify(profile.get_field(user_id, key_name))


@bp.put(f"{PROFILE}/<profile_key:key_name>")
def set_profile_field(user_id, key_name):
    requester = require_auth()
    body = json_body()
    profile.set_field(requester, user_id, key_name, body)
    return jsonify({})


@bp.delete(f"{PROFILE}/<profile_key:key_name>")
def delete_profile_field(user_id, key_name):
    requester = require_auth()
    profile.delete_field(requester, user_id, key_name)
    return jsonify({})
