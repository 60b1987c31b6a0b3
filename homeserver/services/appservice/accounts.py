"""Accounts of application services: ``POST /register`` and ``POST /login`` with the type
``m.login.application_service`` (spec: Client-Server API, "Appservice Login" and /register).
"""

from __future__ import annotations

from ... import db, errors, identifiers
from ..accounts import accounts, deactivation, devices, registration
from ..accounts.login import APPLICATION_SERVICE
from .registrations import AppService, Registry

LOGIN_TYPE = APPLICATION_SERVICE


def _user_id(username: str, server_name: str) -> str:
    """A service's user: any valid localpart (bridges' begin with '_' too), or a full ID."""
    if username.startswith("@"):
        if identifiers.server_of(username) != server_name:
            raise errors.InvalidUsername("An application service registers local users only")
        user_id = username
    else:
        user_id = identifiers.user_id_for(username.lower(), server_name)
    localpart = identifiers.split_id(user_id, "@")
    if (localpart is None or not identifiers.is_valid_localpart(localpart[0])
            or len(user_id.encode("utf-8")) > accounts.MAX_USER_ID_BYTES):
        raise errors.InvalidUsername(
            "User ID can only contain characters a-z, 0-9, or '=_-./+'")
    return user_id


def _in_namespace(registry: Registry, service: AppService, user_id: str) -> None:
    if not service.is_interested_in_user(user_id):
        raise errors.Exclusive("This user ID is outside the application service's namespaces")
    registry.check_not_reserved(user_id, service)


def register(registry: Registry, service: AppService, body: dict, *, server_name: str,
             token_lifetime_ms: int, ip: str | None) -> dict:
    """POST /register with ``type: m.login.application_service``: no user-interactive auth,
    a user of the service's namespaces, ``inhibit_login`` honoured."""
    username = body.get("username")
    if not isinstance(username, str) or not username:
        raise errors.MissingParam("An application service must name the user to register")
    user_id = _user_id(username, server_name)
    _in_namespace(registry, service, user_id)
    if body.get("device_id") is not None:
        devices.validate_device_id(body["device_id"])
    with db.write_transaction():
        accounts.create_user(user_id, None)
        return registration.logged_in(user_id, body, server_name=server_name,
                          token_lifetime_ms=token_lifetime_ms, ip=ip)


def deactivate(user_id: str, *, erase: bool = False, media_store=None) -> dict:
    """POST /account/deactivate by an application service for a user of its namespaces: the
    service's as_token is the authentication (no user-interactive auth, as Synapse)."""
    unbound = deactivation.unbind_threepids(user_id)
    orphaned = deactivation.deactivate_account(user_id, erase=erase)
    deactivation.after_commit(user_id, orphaned, media_store)
    return unbound


def login(registry: Registry, service: AppService | None, body: dict, *, server_name: str,
          token_lifetime_ms: int, ip: str | None) -> dict:
    """POST /login with ``type: m.login.application_service``, authenticated by the as_token."""
    if service is None:
        raise errors.Forbidden("This login type needs an application service's as_token")
    identifier = body.get("identifier")
    if identifier is None and body.get("user") is not None:
        identifier = {"type": "m.id.user", "user": body["user"]}
    if not isinstance(identifier, dict) or identifier.get("type") != "m.id.user" \
            or not isinstance(identifier.get("user"), str):
        raise errors.MissingParam("Missing identifier: an m.id.user identifier is required")
    user_id = _user_id(identifier["user"], server_name)
    _in_namespace(registry, service, user_id)
    user = accounts.get_user(user_id)
    if user is None:
        raise errors.Forbidden("Application service has not registered this user")
    if user.deactivated:
        raise errors.UserDeactivated()
    if user.locked:
        raise errors.UserLocked()
    if body.get("device_id") is not None:
        devices.check_login_device_id(user_id, body["device_id"])
    with db.write_transaction():
        return registration.logged_in(user_id, body, server_name=server_name,
                          token_lifetime_ms=token_lifetime_ms, ip=ip)

