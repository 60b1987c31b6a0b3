"""Server-side key backups: /room_keys/version and /room_keys/keys (End-to-End Encryption)."""

from flask import Blueprint, jsonify

from ..schemas.keys import (BackupVersionArgs, BackupVersionCreateSchema,
                            BackupVersionUpdateSchema, KeyBackupDataSchema, RoomKeyBackupSchema,
                            RoomKeysBackupSchema)
from ..services.e2ee import key_backup
from .http import CLIENT_PREFIX, load_args, load_body, require_auth

bp = Blueprint("room_keys", __name__, url_prefix=f"{CLIENT_PREFIX}/v3/room_keys")


@bp.post("/version")
def create_version():
    requester = require_auth()
    body = load_body(BackupVersionCreateSchema)
    return jsonify(key_backup.create_version(requester.user_id, body["algorithm"],
                                             body["auth_data"]))


@bp.get("/version")
def current_version():
    requester = require_auth()
    return jsonify(key_backup.get_version(requester.user_id, None))


@bp.get("/version/<version>")
def get_version(version):
    requester = require_auth()
    return jsonify(key_backup.get_version(requester.user_id, version))


@bp.put("/version/<version>")
def update_version(version):
    requester = require_auth()
    body = load_body(BackupVersionUpdateSchema)
    key_backup.update_version(requester.user_id, version, body["algorithm"], body["auth_data"],
                              body["version"])
    return jsonify({})


@bp.delete("/version/<version>")
def delete_version(version):
    requester = require_auth()
    key_backup.delete_version(requester.user_id, version)
    return jsonify({})


@bp.put("/keys")
def put_all_keys():
    requester = require_auth()
    version = load_args(BackupVersionArgs)["version"]
    rooms = load_body(RoomKeysBackupSchema)["rooms"]
    return jsonify(key_backup.put_keys(requester.user_id, version, {
        room_id: room["sessions"] for room_id, room in rooms.items()}))


@bp.put("/keys/<room_id>")
def put_room_keys(room_id):
    requester = require_auth()
    version = load_args(BackupVersionArgs)["version"]
    sessions = load_body(RoomKeyBackupSchema)["sessions"]
    return jsonify(key_backup.put_keys(requester.user_id, version, {room_id: sessions}))


@bp.put("/keys/<room_id>/<session_id>")
def put_session_key(room_id, session_id):
    requester = require_auth()
    version = load_args(BackupVersionArgs)["version"]
    data = load_body(KeyBackupDataSchema)
    return jsonify(key_backup.put_keys(requester.user_id, version, {room_id: {session_id: data}}))


@bp.get("/keys", defaults={"room_id": None, "session_id": None})
@bp.get("/keys/<room_id>", defaults={"session_id": None})
@bp.get("/keys/<room_id>/<session_id>")
def get_keys(room_id, session_id):
    requester = require_auth()
    version = load_args(BackupVersionArgs)["version"]
    return jsonify(key_backup.get_keys(requester.user_id, version, room_id, session_id))


@bp.delete("/keys", defaults={"room_id": None, "session_id": None})
@bp.delete("/keys/<room_id>", defaults={"session_id": None})
@bp.delete("/keys/<room_id>/<session_id>")
def delete_keys(room_id, session_id):
    requester = require_auth()
    version = load_args(BackupVersionArgs)["version"]
    return jsonify(key_backup.delete_keys(requester.user_id, version, room_id, session_id))
