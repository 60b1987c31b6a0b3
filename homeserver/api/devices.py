"""Device management (modules/device_management.md): list, get, rename, delete; application
services with MSC4190's flag also create devices and delete them without UIA."""

from flask import Blueprint, jsonify

from ..schemas.auth import DeleteDevicesBody, EmptyBody, UpdateDeviceBody
from ..services.accounts import devices, uia
from ..services.appservice import devices as appservice_devices
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
    body = load_body(UpdateDeviceBody)
    if appservice_devices.manages_devices(requester):
        created = appservice_devices.put_device(requester.user_id, device_id, body)
        return jsonify({}), 201 if created else 200
    devices.update_device(requester.user_id, device_id, body)
    return jsonify({})


@bp.delete("/v3/devices/<path:device_id>")
def delete_device(device_id):
    requester = require_auth()
    if appservice_devices.manages_devices(requester):
        devices.delete_devices(requester.user_id, [device_id])  # MSC4190: no UIA
        return jsonify({})
    _, passed = interactive(EmptyBody, [[uia.PASSWORD]], requester=requester.user_id)
    uia.complete(passed, lambda: devices.delete_devices(requester.user_id, [device_id]))
    return jsonify({})


@bp.post("/v3/delete_devices")
def delete_devices():
    requester = require_auth()
    if appservice_devices.manages_devices(requester):
        devices.delete_devices(requester.user_id, load_body(DeleteDevicesBody)["devices"])
        return jsonify({})
    body, passed = interactive(DeleteDevicesBody, [[uia.PASSWORD]],
                               requester=requester.user_id)
    uia.complete(passed, lambda: devices.delete_devices(requester.user_id, body["devices"]))
    return jsonify({})
