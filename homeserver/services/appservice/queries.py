"""Asking application services about users and room aliases that do not exist yet (spec:
Application Service API, "Querying"): when a user ID or alias in a service's namespace is
used and unknown, the service is asked (GET /_matrix/app/v1/users/{userId} or
/rooms/{roomAlias}); it creates the user or room through the client-server API before it
answers 200, and the request goes on as if it had existed. Only services whose namespace
covers the ID are asked, each at most once per request, within ``QUERY_TIMEOUT_S``."""

from __future__ import annotations

from ... import identifiers
from ...models.rooms import RoomAlias
from ..accounts import accounts
from . import client
from .registrations import Registry

# A service answers after it made the user or room; longer than that, the request goes on.
QUERY_TIMEOUT_S = 10.0


def ensure_user(registry: Registry, user_id: str, server_name: str) -> None:
    """Ask the services whose user namespaces cover an unknown local ``user_id``."""
    if (not registry or not isinstance(user_id, str) or not identifiers.is_valid_user_id(user_id)
            or identifiers.server_of(user_id) != server_name or accounts.user_exists(user_id)):
        return
    for service in registry.services:
        if service.url is not None and any(ns.matches(user_id) for ns in service.users):
            if client.query_exists(service, "users", user_id, QUERY_TIMEOUT_S) \
                    and accounts.user_exists(user_id):
                return


def ensure_alias(registry: Registry, alias: str, server_name: str) -> None:
    """Ask the services whose alias namespaces cover an unknown local ``alias``."""
    if (not registry or not isinstance(alias, str) or not alias.startswith("#")
            or not identifiers.is_valid_room_alias(alias)
            or identifiers.server_of(alias) != server_name):
        return
    if RoomAlias.select().where(RoomAlias.alias == alias).exists():
        return
    for service in registry.services:
        if service.url is not None and service.is_interested_in_alias(alias):
            if client.query_exists(service, "rooms", alias, QUERY_TIMEOUT_S) \
                    and RoomAlias.select().where(RoomAlias.alias == alias).exists():
                return
