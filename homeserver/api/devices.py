"""Device management (modules/device_management.md): list, get, rename, delete."""

from flask import Blueprint, jsonify

from ..schemas.auth import DeleteDevicesBody, EmptyBody, UpdateDeviceBody
from ..services.accounts import devices, uia
from .http import CLIENT_PREFIX, load_body, require_auth
from .uia import interactive

bp = Blueprint("devices", __name__, url_prefix=CLIENT_PREFIX)


@bp.get("/v3/devices")
def list_devices():
    requester = require_auth()
    return jsonify({"devices": devices.list_devices(requester.user_id)})


@bp.get("/v3/devices/<path:device_id>")
def get_device(device_id):
    requester = require_auth()
    return jsonify(devices.get_device(requester.user_id, device_id))


@bp.put("/v3/devices/<path:device_id>")
def update_device(device_id):
    requester = require_auth()
    body = load_body(UpdateDeviceBody())
    devices.update_device(requester.user_id, device_id, body)
    return jsonify({})


@bp.delete("/v3/devices/<path:device_id>")
def delete_device(device_id):
    requester = require_auth()
    _, passed = interactive(EmptyBody(), [[uia.PASSWORD]], requester=requester.user_id)
    uia.complete(passed, lambda: devices.delete_devices(requester.user_id, [device_id]))
    return jsonify({})


@bp.post("/v3/delete_devices")
def delete_devices():
    requester = require_auth()
    body, passed = interactive(DeleteDevicesBody(), [[uia.PASSWORD]],
                               requester=requester.user_id)
    uia.complete(passed, lambda: devices.delete_devices(requester.user_id, body["devices"]))
    return jsonify({})
