"""Requests made with an application service's ``as_token`` (spec: Application Service API,
"Identity assertion" and "Using /sync and /events"... the client-server side).

The service acts as its sender user, or as the user the ``user_id`` query parameter names when
one of its user namespaces covers it; anything else is M_FORBIDDEN. The user must exist
(registered through ``m.login.application_service``), except the sender, which the server
creates when first used. ``device_id`` (MSC3202's ``org.matrix.msc3202.device_id`` too) picks
one of that user's existing devices; without it the request has no device
(``NO_DEVICE``).
"""

from __future__ import annotations

from ... import errors, identifiers
from ...models.users import Device
from ..accounts import access_tokens, accounts
from .registrations import AppService

# The device of a request a service makes without naming one: none. Transaction IDs of such
# requests are scoped to the (user, "") pair, and unsigned.transaction_id shows to them.
NO_DEVICE = ""


def requester_for(service: AppService, user_id: str | None, device_id: str | None,
                  server_name: str) -> access_tokens.Requester:
    """The requester an as_token request acts as (see the module docstring)."""
    if user_id is None or user_id == service.sender:
        user_id = service.sender
        _ensure_sender(service)
    else:
        if (not identifiers.is_valid_user_id(user_id)
                or identifiers.server_of(user_id) != server_name
                or not service.is_interested_in_user(user_id)):
            raise errors.Forbidden(
                "Application service cannot masquerade as this user: it is outside the "
                "service's user namespaces")
    user = accounts.get_user(user_id)
    if user is None:
        raise errors.Forbidden("Application service has not registered this user")
    if user.deactivated:
        raise errors.UserDeactivated()
    if device_id is not None:
        known = Device.select().where((Device.user == user_id)
                                      & (Device.device_id == device_id)).exists()
        if not known:
            raise errors.UnknownDevice("Application service has no such device for this user")
    return access_tokens.Requester(user_id=user_id, device_id=device_id or NO_DEVICE, token_id=0,
                          is_admin=user.is_admin, is_suspended=user.suspended,
                          app_service=service)


def _ensure_sender(service: AppService) -> None:
    if not accounts.user_exists(service.sender):
        try:
            accounts.create_user(service.sender, None)
        except errors.UserInUse:
            pass  # created by a concurrent request: what was wanted
