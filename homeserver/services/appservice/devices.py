"""Device management by application services (MSC4190, "Device management for application
services"): a service whose registration says ``io.element.msc4190: true`` (the name Synapse
and mautrix use; the MSC's ``device_management: true`` too) creates a device of one of its
users with ``PUT /devices/{deviceId}`` (201 when created) and deletes devices without
user-interactive auth, so encrypted bridges need no /login per ghost. It then acts as that
device with the ``device_id`` (``org.matrix.msc3202.device_id``) query parameter
(requesters.py).
"""

from __future__ import annotations

import peewee

from ... import db
from ..accounts import access_tokens, devices


def manages_devices(requester: access_tokens.Requester) -> bool:
    return requester.app_service is not None and requester.app_service.device_management


def put_device(user_id: str, device_id: str, changes: dict) -> bool:
    """PUT /devices/{deviceId} by a service that manages devices: create the device if the
    user has none of that ID (True), else rename it as for any client (False)."""
    devices.check_login_device_id(user_id, device_id)
    try:
        with db.write_transaction():
            created = devices.create_device(user_id, device_id, changes.get("display_name"))
    except peewee.IntegrityError:
        created = False  # a concurrent request created it: rename it below
    if not created and "display_name" in changes:
        devices.update_device(user_id, device_id, changes)
    return created
